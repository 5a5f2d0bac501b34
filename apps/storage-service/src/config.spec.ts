import { ConfigError, loadConfig } from '@app/platform';
import { configSchema } from './config';

const load = (env: NodeJS.ProcessEnv) => loadConfig(configSchema, env);

function issuesOf(env: NodeJS.ProcessEnv): { variable: string; message: string }[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('storage-service configuration: the archive', () => {
  it('writes backups in STANDARD by default, with no cold transition', () => {
    const config = load({});
    expect(config).toMatchObject({
      STORAGE_ARCHIVE_STORAGE_CLASS: 'STANDARD',
      STORAGE_ARCHIVE_RETENTION_DAYS: 365,
    });
    expect(config).not.toHaveProperty('STORAGE_ARCHIVE_TRANSITION_CLASS', expect.anything());
    expect(config).not.toHaveProperty('STORAGE_ARCHIVE_TRANSITION_DAYS', expect.anything());
    expect(load({ STORAGE_ARCHIVE_STORAGE_CLASS: 'GLACIER_IR' }).STORAGE_ARCHIVE_STORAGE_CLASS).toBe(
      'GLACIER_IR',
    );
  });

  it.each(['GLACIER', 'DEEP_ARCHIVE', 'GLACIER_DEEP_ARCHIVE'])(
    'refuses to start with STORAGE_ARCHIVE_STORAGE_CLASS=%s: backups could not be read back to verify them',
    (storageClass) => {
      const issues = issuesOf({ STORAGE_ARCHIVE_STORAGE_CLASS: storageClass });
      expect(issues.map((i) => i.variable)).toEqual(['STORAGE_ARCHIVE_STORAGE_CLASS']);
      expect(issues[0].message).toContain(`${storageClass} cannot be read back without a restore`);
      expect(issues[0].message).toContain(
        'STANDARD, REDUCED_REDUNDANCY, STANDARD_IA, ONEZONE_IA, GLACIER_IR',
      );
      expect(issues[0].message).toContain('STORAGE_ARCHIVE_TRANSITION_CLASS');
      expect(() => load({ STORAGE_ARCHIVE_STORAGE_CLASS: storageClass })).toThrow(
        /STORAGE_ARCHIVE_STORAGE_CLASS/,
      );
    },
  );

  it('names an unknown class without echoing it', () => {
    const issues = issuesOf({ STORAGE_ARCHIVE_STORAGE_CLASS: 'TAPE' });
    expect(issues.map((i) => i.variable)).toEqual(['STORAGE_ARCHIVE_STORAGE_CLASS']);
    expect(issues[0].message).not.toContain('TAPE');
  });

  it("moves archives to the cold class the spec asks for (GLACIER_DEEP_ARCHIVE, S3's DEEP_ARCHIVE)", () => {
    expect(
      load({
        STORAGE_ARCHIVE_TRANSITION_CLASS: 'GLACIER_DEEP_ARCHIVE',
        STORAGE_ARCHIVE_TRANSITION_DAYS: '30',
      }),
    ).toMatchObject({
      STORAGE_ARCHIVE_STORAGE_CLASS: 'STANDARD',
      STORAGE_ARCHIVE_TRANSITION_CLASS: 'DEEP_ARCHIVE',
      STORAGE_ARCHIVE_TRANSITION_DAYS: 30,
    });
    // Unset in a compose file or chart often means empty.
    expect(
      load({ STORAGE_ARCHIVE_TRANSITION_CLASS: '', STORAGE_ARCHIVE_TRANSITION_DAYS: '' }),
    ).not.toHaveProperty('STORAGE_ARCHIVE_TRANSITION_CLASS', expect.anything());
    // Kept forever: any positive delay.
    expect(
      load({
        STORAGE_ARCHIVE_RETENTION_DAYS: '0',
        STORAGE_ARCHIVE_TRANSITION_CLASS: 'GLACIER',
        STORAGE_ARCHIVE_TRANSITION_DAYS: '1000',
      }),
    ).toMatchObject({ STORAGE_ARCHIVE_TRANSITION_DAYS: 1000 });
  });

  it('refuses a transition on or after the expiration, naming STORAGE_ARCHIVE_TRANSITION_DAYS', () => {
    for (const days of ['365', '400']) {
      const issues = issuesOf({
        STORAGE_ARCHIVE_TRANSITION_CLASS: 'GLACIER',
        STORAGE_ARCHIVE_TRANSITION_DAYS: days,
      });
      expect(issues.map((i) => i.variable)).toEqual(['STORAGE_ARCHIVE_TRANSITION_DAYS']);
      expect(issues[0].message).toContain('STORAGE_ARCHIVE_RETENTION_DAYS');
    }
    expect(
      issuesOf({
        STORAGE_ARCHIVE_RETENTION_DAYS: '30',
        STORAGE_ARCHIVE_TRANSITION_CLASS: 'GLACIER',
        STORAGE_ARCHIVE_TRANSITION_DAYS: '30',
      }).map((i) => i.variable),
    ).toEqual(['STORAGE_ARCHIVE_TRANSITION_DAYS']);
  });

  it('refuses half a transition, a zero delay, a transition to the written class, or to STANDARD', () => {
    const variables = (env: NodeJS.ProcessEnv) => issuesOf(env).map((i) => i.variable);
    expect(variables({ STORAGE_ARCHIVE_TRANSITION_CLASS: 'GLACIER' })).toEqual([
      'STORAGE_ARCHIVE_TRANSITION_DAYS',
    ]);
    expect(variables({ STORAGE_ARCHIVE_TRANSITION_DAYS: '30' })).toEqual([
      'STORAGE_ARCHIVE_TRANSITION_CLASS',
    ]);
    expect(
      variables({ STORAGE_ARCHIVE_TRANSITION_CLASS: 'GLACIER', STORAGE_ARCHIVE_TRANSITION_DAYS: '0' }),
    ).toEqual(['STORAGE_ARCHIVE_TRANSITION_DAYS']);
    expect(
      variables({
        STORAGE_ARCHIVE_STORAGE_CLASS: 'STANDARD_IA',
        STORAGE_ARCHIVE_TRANSITION_CLASS: 'STANDARD_IA',
        STORAGE_ARCHIVE_TRANSITION_DAYS: '30',
      }),
    ).toEqual(['STORAGE_ARCHIVE_TRANSITION_CLASS']);
    expect(
      variables({ STORAGE_ARCHIVE_TRANSITION_CLASS: 'STANDARD', STORAGE_ARCHIVE_TRANSITION_DAYS: '30' }),
    ).toEqual(['STORAGE_ARCHIVE_TRANSITION_CLASS']);
    expect(
      variables({ STORAGE_ARCHIVE_TRANSITION_CLASS: 'bad class', STORAGE_ARCHIVE_TRANSITION_DAYS: '30' }),
    ).toEqual(['STORAGE_ARCHIVE_TRANSITION_CLASS']);
  });
});

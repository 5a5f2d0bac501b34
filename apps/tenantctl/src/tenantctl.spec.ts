import { MemoryEventStore, type RecordedEvent } from '@app/event-store';
import { tenantStream } from '@app/contracts';
import { TenantStreamBuilder } from '@app/tenancy';
import { formatDuration, healthOf, printable, table, timelineEntry } from './format';
import { EXIT, run } from './tenantctl';

/** Every case here is refused before any store is opened: the URL points nowhere on purpose. */
const ENV = {
  EVENTSTORE_URL: 'postgres://nobody@127.0.0.1:1/none_test',
  READ_MODEL_URL: 'postgres://nobody@127.0.0.1:1/none_test',
  USER: 'alice',
};

async function tenantctl(argv: string[], env: NodeJS.ProcessEnv = ENV) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  });
  return { code, stdout, stderr };
}

describe('tenantctl arguments', () => {
  it('prints help with the exit codes, for the program and for each command', async () => {
    const top = await tenantctl(['--help']);
    expect(top.code).toBe(EXIT.OK);
    for (const command of [
      'list',
      'status',
      'watch',
      'history',
      'state',
      'verify',
      'retry',
      'cancel',
      'purge',
      'replay',
      'secrets',
    ]) {
      expect(top.stdout).toContain(command);
    }
    expect(top.stdout).toContain('3    unknown tenant');
    expect(top.stdout).toContain('4    verify');

    const state = await tenantctl(['state', '--help']);
    expect(state.code).toBe(EXIT.OK);
    expect(state.stdout).toContain('--at <instant>');
    const retry = await tenantctl(['help', 'retry']);
    expect(retry.code).toBe(EXIT.OK);
    expect(retry.stdout).toContain('--reason <text>');
  });

  it.each([
    [[], 'no command'],
    [['frobnicate'], 'unknown command'],
    [['status'], 'missing tenant'],
    [['status', 'Not_A_Tenant'], 'invalid tenant id'],
    [['list', '--state', 'gone'], 'state outside the choices'],
    [['list', '--limit', '0'], 'limit out of range'],
    [['state', 'acme-aaaaaa'], 'missing --at'],
    [['state', 'acme-aaaaaa', '--at', 'yesterday'], 'not an instant'],
    [['state', 'acme-aaaaaa', '--at', '2025-01-15T10:00:00'], 'an instant without a zone'],
    [['history', 'acme-aaaaaa', '--json', '--ndjson'], 'exclusive formats'],
    [['verify'], 'neither tenant nor file'],
    [['verify', 'acme-aaaaaa', '--file', 'x.ndjson'], 'both tenant and file'],
    [['verify', '--file', 'x.ndjson', '--anchor', '3:abc'], 'malformed anchor'],
    [['retry', 'acme-aaaaaa', 'databases'], 'missing --reason'],
    [['cancel', 'acme-aaaaaa', '--reason', 'r', '--as', 'eve smith'], 'bad operator name'],
    [['purge', 'acme-aaaaaa'], 'purge without --reason'],
    [['purge', 'Not_A_Tenant', '--reason', 'r'], 'purge of an invalid tenant id'],
    [['watch', 'acme-aaaaaa', '--timeout', 'soon'], 'bad timeout'],
  ])('exits 2 for %j (%s) and says why on stderr', async (argv, _why) => {
    const result = await tenantctl(argv);
    expect(result.code).toBe(EXIT.USAGE);
    expect(result.stderr.length).toBeGreaterThan(0);
    expect(result.stdout).not.toContain('Exit codes');
  });

  it('asks who the operator is when neither --as nor USER says', async () => {
    const result = await tenantctl(['cancel', 'acme-aaaaaa', '--reason', 'r'], { ...ENV, USER: undefined });
    expect(result.code).toBe(EXIT.USAGE);
    expect(result.stderr).toContain('--as');
  });

  it('names a bad variable, never its value, and needs no WEBHOOK_SECRET', async () => {
    const result = await tenantctl(['status', 'acme-aaaaaa'], {
      ...ENV,
      EVENTSTORE_SCHEMA: 'Secret-Looking-Value',
    });
    expect(result.code).toBe(EXIT.USAGE);
    expect(result.stderr).toContain('EVENTSTORE_SCHEMA');
    expect(result.stderr).not.toContain('Secret-Looking-Value');
    expect(result.stderr).not.toContain('WEBHOOK_SECRET');
  });
});

describe('tenantctl secrets rotate-key arguments', () => {
  const key = 'k2:' + Buffer.alloc(32, 7).toString('base64');
  const SECRETS_ENV = {
    SECRET_STORE_URL: 'postgres://nobody@127.0.0.1:1/none?schema=s',
    SECRET_STORE_KEYS: key,
  };

  it.each([
    [{ SECRET_STORE_URL: 'kubernetes://e-commerce-shared' }, /only the encrypted PostgreSQL secret store/],
    [{ SECRET_STORE_KEYS: undefined }, /SECRET_STORE_KEY is not set/],
    [{ SECRET_STORE_KEYS: 'Not-An-Id-Secret-Material' }, /SECRET_STORE_KEYS entry #1 must be <key id>:/],
    [{ SECRET_STORE_KEY_ID: 'k3' }, /SECRET_STORE_KEY_ID "k3" is not a configured key id/],
  ])('exits 2 before connecting for a bad configuration (%#), naming the variable', async (override, why) => {
    const result = await tenantctl(['secrets', 'rotate-key'], { ...SECRETS_ENV, ...override });
    expect(result.code).toBe(EXIT.USAGE);
    expect(result.stderr).toMatch(why);
    expect(result.stderr).not.toContain('Secret-Material');
    expect(result.stderr).not.toContain(key.slice(3));
  });

  it('refuses a bad --batch', async () => {
    const result = await tenantctl(['secrets', 'rotate-key', '--batch', '0'], SECRETS_ENV);
    expect(result.code).toBe(EXIT.USAGE);
    expect(result.stderr).toContain('--batch');
  });
});

describe('tenantctl formatting', () => {
  it('maps every status to one health word', () => {
    expect(healthOf('requested')).toBe('provisioning');
    expect(healthOf('provisioning')).toBe('provisioning');
    expect(healthOf('rolling_back')).toBe('rolling-back');
    expect(healthOf('deprovisioning')).toBe('deprovisioning');
    expect(healthOf('purged')).toBe('purged');
  });

  it('describes events in one line each, with actor and step', async () => {
    const store = new MemoryEventStore();
    const builder = new TenantStreamBuilder('acme-aaaaaa', '2025-01-15T10:00:00Z')
      .requested()
      .started('databases', 'ProvisionDatabases')
      .failed('databases', { code: 'DATABASE.GRANT_REFUSED', message: 'refused', retryable: false })
      .lifecycle(
        'OperatorRetryRequested',
        { step: 'databases', reason: 'fixed', operator: 'alice' },
        'operator:alice',
      );
    await builder.appendTo(store);
    const events: RecordedEvent[] = await store.readStream(tenantStream('acme-aaaaaa'));
    const entries = events.map(timelineEntry);
    expect(entries.map((e) => [e.type, e.actor, e.step, e.detail])).toEqual([
      [
        'TenantRequested',
        'provisioning-api',
        null,
        'ABC Corporation (premium, eu-west) acme.collectverything.com via webhook',
      ],
      ['StepStarted', 'orchestrator', 'databases', 'ProvisionDatabases -> database, attempt 1'],
      [
        'DatabasesProvisioningFailed',
        'database-service',
        'databases',
        'DATABASE.GRANT_REFUSED: refused (after 3 attempts)',
      ],
      ['OperatorRetryRequested', 'operator:alice', 'databases', 'retry by alice: fixed'],
    ]);
    expect(entries[1].occurred_at).toBe('2025-01-15T10:01:00.000Z');
  });

  it('keeps terminal control sequences out and lays out tables', () => {
    expect(printable('ok\u001b[2Jgone\n')).toBe('ok?[2Jgone?');
    expect(
      table(
        ['A', 'LONG'],
        [
          ['xyz', '1'],
          ['q', '22'],
        ],
      ),
    ).toBe('A    LONG\nxyz  1\nq    22');
    expect(formatDuration(2500)).toBe('2.5s');
    expect(formatDuration(125_000)).toBe('2m05s');
    expect(formatDuration(null)).toBe('-');
  });
});

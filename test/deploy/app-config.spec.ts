import { appConfigs, schemaKeys } from '../support/app-config';
import { z } from 'zod';

// The checker the deployment tests rely on: it must refuse what the apps refuse, and know what they read.
describe('appConfigs', () => {
  const production = appConfigs('production');
  const development = appConfigs('development');

  it('requires credentials under production that have local defaults in development', () => {
    expect(development['monitoring-service'].validate({})).toEqual([]);
    expect(production['monitoring-service'].validate({}).join('\n')).toContain('GRAFANA_ADMIN_TOKEN');
  });

  it('runs the base schema too (a bad EVENTSTORE_URL is refused for every app)', () => {
    for (const app of Object.values(development)) {
      expect(app.validate({ EVENTSTORE_URL: 'mongodb://x' }).join('\n')).toContain('EVENTSTORE_URL');
    }
  });

  it('runs the start-up checks outside the schemas (secret store key, fault injection)', () => {
    const problems = production['database-service'].validate({
      NODE_ENV: 'production',
      SECRET_STORE_URL: 'postgres://db/x?schema=s',
      FAULT_INJECT_PERMANENT: 'ProvisionDatabases',
    });
    expect(problems.join('\n')).toContain('SECRET_STORE_KEY');
    expect(problems.join('\n')).toContain('FAULT_INJECT_PERMANENT');
  });

  it('knows every branch of a union and the process-wide variables', () => {
    const known = development['database-service'].knownVariables();
    for (const name of ['BACKUP_DIR', 'S3_ENDPOINT', 'MYSQL_URL', 'AMQP_URL', 'NODE_ENV', 'LOG_LEVEL']) {
      expect(known).toContain(name);
    }
    expect(known).not.toContain('GRAFANA_URL');
    expect(development.orchestrator.knownVariables()).toContain('GRACE_PERIOD_DAYS');
  });

  it('walks refinements, pipes and wrappers', () => {
    const schema = z.preprocess(
      (x) => x,
      z.object({ A: z.string() }).superRefine(() => undefined),
    );
    expect([...schemaKeys(schema.optional())]).toEqual(['A']);
  });
});

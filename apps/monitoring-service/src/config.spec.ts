import { loadConfig } from '@app/platform';
import { buildConfigSchema, grafanaCredentialsFrom, tenantDataSourceSettingsFrom } from './config';

const production = buildConfigSchema({ NODE_ENV: 'production' });
const development = buildConfigSchema({ NODE_ENV: 'development' });
const load = (schema: typeof production, env: Record<string, string>) => loadConfig(schema, env);
const problems = (schema: typeof production, env: Record<string, string>): string => {
  try {
    load(schema, env);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('monitoring-service Grafana credentials', () => {
  it('takes a server admin user and password (basic auth) instead of a token', () => {
    const config = load(production, { GRAFANA_ADMIN_USER: 'admin', GRAFANA_ADMIN_PASSWORD: 'pw-123456' });
    expect(grafanaCredentialsFrom(config)).toEqual({ user: 'admin', password: 'pw-123456' });
  });

  it('still takes a token alone', () => {
    expect(grafanaCredentialsFrom(load(production, { GRAFANA_ADMIN_TOKEN: 'glsa_x' }))).toEqual({
      token: 'glsa_x',
    });
  });

  it('requires one form under production, naming both, and none locally', () => {
    const message = problems(production, {});
    expect(message).toContain('GRAFANA_ADMIN_TOKEN');
    expect(message).toContain('GRAFANA_ADMIN_USER with GRAFANA_ADMIN_PASSWORD');
    // Empty values (a compose `${VAR:-}`) count as unset.
    expect(problems(production, { GRAFANA_ADMIN_TOKEN: '', GRAFANA_ADMIN_USER: '' })).toContain(
      'required under NODE_ENV=production',
    );
    expect(grafanaCredentialsFrom(load(development, {}))).toEqual({ token: '' });
  });

  it('refuses both forms at once, and half of basic auth', () => {
    const both = problems(development, {
      GRAFANA_ADMIN_TOKEN: 'glsa_x',
      GRAFANA_ADMIN_USER: 'admin',
      GRAFANA_ADMIN_PASSWORD: 'secret-password-value',
    });
    expect(both).toContain('GRAFANA_ADMIN_TOKEN: set exactly one form');
    expect(both).not.toContain('secret-password-value');
    expect(problems(production, { GRAFANA_ADMIN_USER: 'admin' })).toContain(
      'GRAFANA_ADMIN_PASSWORD: required with GRAFANA_ADMIN_USER',
    );
    expect(problems(production, { GRAFANA_ADMIN_PASSWORD: 'secret-password-value' })).toMatch(
      /GRAFANA_ADMIN_USER: required with GRAFANA_ADMIN_PASSWORD(?![\s\S]*secret-password-value)/,
    );
  });
});

describe('monitoring-service tenant data source', () => {
  it('defaults to prom-label-proxy in the monitoring namespace, the namespace in a header', () => {
    expect(tenantDataSourceSettingsFrom(load(development, {}))).toEqual({
      urlTemplate: 'http://prom-label-proxy.e-commerce-monitoring:8080',
      header: 'X-Namespace',
    });
  });

  it('takes a URL template instead of the header', () => {
    const config = load(development, {
      GRAFANA_TENANT_DATASOURCE_URL: 'http://proxy:8080/?namespace={namespace}',
      GRAFANA_TENANT_DATASOURCE_HEADER: '',
    });
    expect(tenantDataSourceSettingsFrom(config)).toEqual({
      urlTemplate: 'http://proxy:8080/?namespace={namespace}',
      header: '',
    });
  });

  it('refuses a data source that would not carry the namespace, and a URL that is not one', () => {
    expect(
      problems(development, {
        GRAFANA_TENANT_DATASOURCE_URL: 'http://proxy:8080',
        GRAFANA_TENANT_DATASOURCE_HEADER: '',
      }),
    ).toContain('GRAFANA_TENANT_DATASOURCE_URL: with GRAFANA_TENANT_DATASOURCE_HEADER empty');
    expect(problems(development, { GRAFANA_TENANT_DATASOURCE_URL: 'prom-label-proxy:8080' })).toContain(
      'GRAFANA_TENANT_DATASOURCE_URL: an http(s) URL',
    );
    expect(problems(development, { GRAFANA_TENANT_DATASOURCE_HEADER: 'X Namespace' })).toContain(
      'GRAFANA_TENANT_DATASOURCE_HEADER',
    );
  });
});

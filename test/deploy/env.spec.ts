import { appConfigs } from '../support/app-config';
import { APPS, type AppName } from '../support/local-stack';
import { OVERLAYS, deploymentOf, loadRendered, resolveEnv } from './rendered-manifests';

// Each app's Deployment, in each overlay, gives its process an environment the app accepts at start-up (under
// NODE_ENV=production: no local credential defaults) and sets nothing the app does not read.
const configs = appConfigs('production');

function unknownVariables(app: AppName, env: Record<string, string>): string[] {
  const known = configs[app].knownVariables();
  return Object.keys(env).filter((name) => !known.has(name));
}

describe.each(OVERLAYS)('deploy/rendered/%s.yaml: each app starts with its environment', (overlay) => {
  const objects = loadRendered(overlay);

  it.each(APPS)('%s: every required variable is set and valid', (app) => {
    const env = resolveEnv(objects, deploymentOf(objects, app));
    expect(configs[app].validate(env)).toEqual([]);
  });

  it.each(APPS)('%s: every variable set is one the app reads', (app) => {
    expect(unknownVariables(app, resolveEnv(objects, deploymentOf(objects, app)))).toEqual([]);
  });
});

describe('the environment checks catch a broken Deployment', () => {
  const objects = loadRendered('production');

  it('a required variable removed is named', () => {
    const env = resolveEnv(objects, deploymentOf(objects, 'provisioning-api'));
    delete env.WEBHOOK_SIGNING_SECRET;
    expect(configs['provisioning-api'].validate(env).join('\n')).toContain('WEBHOOK_SIGNING_SECRET');
  });

  it('a credential with a local default is required too (NODE_ENV=production)', () => {
    const env = resolveEnv(objects, deploymentOf(objects, 'broker-service'));
    delete env.RABBITMQ_ADMIN_PASSWORD;
    expect(configs['broker-service'].validate(env).join('\n')).toContain('RABBITMQ_ADMIN_PASSWORD');
  });

  it('GitOps delivery in production without the repository Argo CD reads is refused', () => {
    const env = resolveEnv(objects, deploymentOf(objects, 'k8s-service'));
    delete env.ARGOCD_REPO_URL;
    expect(configs['k8s-service'].validate(env).join('\n')).toContain('ARGOCD_REPO_URL');
  });

  it('a variable the app does not read is reported', () => {
    const env = resolveEnv(objects, deploymentOf(objects, 'database-service'));
    env.GRAFANA_URL = 'http://grafana:3000';
    expect(unknownVariables('database-service', env)).toEqual(['GRAFANA_URL']);
  });
});

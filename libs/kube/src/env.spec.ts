import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { gitOpsConfigFrom, gitOpsEnv, kubeConnectionFrom, kubeEnv } from './env';

const schema = (service: string) => z.object({ ...gitOpsEnv(service), ...kubeEnv() });

describe('gitOpsEnv / kubeEnv', () => {
  it('defaults give each service its own working copy and author', () => {
    const config = schema('monitoring-service').parse({});
    expect(gitOpsConfigFrom(config)).toEqual({
      workdir: join(tmpdir(), 'provisioning-manifests', 'monitoring-service'),
      remote: undefined,
      branch: 'main',
      authorName: 'provisioning-monitoring-service',
      authorEmail: 'provisioning@collectverything.com',
      pushAttempts: 5,
      lockTimeoutMs: 60000,
      commandTimeoutMs: 20000,
    });
    expect(gitOpsConfigFrom(schema('k8s-service').parse({})).workdir).toBe(
      join(tmpdir(), 'provisioning-manifests', 'k8s-service'),
    );
  });

  it('reads every variable from the environment', () => {
    const config = schema('k8s-service').parse({
      GITOPS_WORKDIR: '/srv/manifests',
      GITOPS_REMOTE: 'git@example.com:manifests.git',
      GITOPS_BRANCH: 'tenants',
      GITOPS_AUTHOR_NAME: 'bot',
      GITOPS_AUTHOR_EMAIL: 'bot@example.com',
      GITOPS_PUSH_ATTEMPTS: '2',
      GITOPS_LOCK_TIMEOUT_MS: '1000',
      GITOPS_COMMAND_TIMEOUT_MS: '5000',
      KUBE_API_SERVER: 'http://127.0.0.1:6443',
      KUBE_TOKEN: 't',
      KUBECONFIG: '/etc/kubeconfig',
      KUBE_REQUEST_TIMEOUT_MS: '7000',
    });
    expect(gitOpsConfigFrom(config)).toEqual({
      workdir: '/srv/manifests',
      remote: 'git@example.com:manifests.git',
      branch: 'tenants',
      authorName: 'bot',
      authorEmail: 'bot@example.com',
      pushAttempts: 2,
      lockTimeoutMs: 1000,
      commandTimeoutMs: 5000,
    });
    expect(kubeConnectionFrom(config)).toEqual({
      server: 'http://127.0.0.1:6443',
      token: 't',
      kubeconfig: '/etc/kubeconfig',
      requestTimeoutMs: 7000,
    });
  });

  it('refuses bad values, naming the variable', () => {
    const result = schema('k8s-service').safeParse({
      GITOPS_PUSH_ATTEMPTS: '0',
      GITOPS_AUTHOR_EMAIL: 'not-an-email',
      KUBE_API_SERVER: 'not a url',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual([
      'GITOPS_AUTHOR_EMAIL',
      'GITOPS_PUSH_ATTEMPTS',
      'KUBE_API_SERVER',
    ]);
  });
});

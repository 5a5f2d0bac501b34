import { StepError } from '@app/platform';
import { startSilentPeer, type SilentPeer } from '../../../test/support/silent-peer';
import { KubeClient } from './kube-client';

// An API server that accepts the connection and never answers (a hung proxy, a stuck load balancer) must fail
// the call within KUBE_REQUEST_TIMEOUT_MS as retryable, not hold the step until its deadline.
describe('KubeClient against an API server that never answers', () => {
  let peer: SilentPeer;
  beforeAll(async () => {
    peer = await startSilentPeer();
  });
  afterAll(() => peer.close());

  const client = () =>
    new KubeClient({ server: `http://${peer.address}`, token: 't', requestTimeoutMs: 300 }, 'test');

  it.each([
    ['read', (c: KubeClient) => c.read('v1', 'Namespace', 'tenant-x')],
    ['list', (c: KubeClient) => c.list('v1', 'Namespace')],
    [
      'apply',
      (c: KubeClient) => c.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant-x' } }),
    ],
    [
      'delete',
      (c: KubeClient) => c.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant-x' } }),
    ],
  ])('%s fails as a retryable K8S.API_TIMEOUT within the bound', async (_, call) => {
    const failure = await call(client()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepError);
    expect(failure).toMatchObject({ code: 'K8S.API_TIMEOUT', retryable: true });
    expect(peer.accepted()).toBeGreaterThan(0);
  });

  it('reachable() answers false instead of hanging', async () => {
    await expect(client().reachable()).resolves.toBe(false);
  });
});

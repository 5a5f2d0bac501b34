import { startSilentPeer, type SilentPeer } from '../../../test/support/silent-peer';
import { RabbitManagementClient, RabbitManagementError } from './index';

describe('RabbitManagementClient against a peer that accepts and never answers', () => {
  let peer: SilentPeer;

  beforeAll(async () => {
    peer = await startSilentPeer();
  });
  afterAll(async () => {
    await peer.close();
  });

  it('fails each attempt within its timeout, as a retryable MANAGEMENT.TIMEOUT', async () => {
    const client = new RabbitManagementClient({
      baseUrl: `http://${peer.address}`,
      username: 'silent',
      password: 'silent-password',
      timeoutMs: 300,
      attempts: 2,
      backoffMs: 0,
    });
    const failure = await client.overview().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RabbitManagementError);
    expect(failure).toMatchObject({ code: 'MANAGEMENT.TIMEOUT', retryable: true });
    expect(peer.accepted()).toBeGreaterThanOrEqual(1);
  }, 10_000);
});

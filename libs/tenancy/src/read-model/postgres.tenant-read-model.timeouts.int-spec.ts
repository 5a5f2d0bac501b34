import { startSilentPeer, type SilentPeer } from '../../../../test/support/silent-peer';
import { PostgresTenantReadModel } from './postgres.tenant-read-model';

describe('PostgresTenantReadModel bounded waits', () => {
  let peer: SilentPeer;
  let model: PostgresTenantReadModel | undefined;

  beforeAll(async () => {
    peer = await startSilentPeer();
  });

  afterAll(async () => {
    await model?.close().catch(() => undefined);
    await peer.close();
  });

  it('gives up connecting to a server that accepts and never answers', async () => {
    // Loosely typed so that a copy of this suite still compiles against a model without these options.
    const bounded: Record<string, unknown> = { connectTimeoutMs: 300 };
    model = new PostgresTenantReadModel(`postgres://postgres@${peer.address}/read_model_test`, 'rm_silent', {
      logger: { warn: () => undefined },
      ...bounded,
    });
    const failure = await model.migrate().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/timeout/i);
    expect(peer.accepted()).toBeGreaterThanOrEqual(1);
  }, 10_000);
});

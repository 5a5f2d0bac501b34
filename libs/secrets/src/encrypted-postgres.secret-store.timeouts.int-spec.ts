import { randomBytes } from 'node:crypto';
import { startSilentPeer, type SilentPeer } from '../../../test/support/silent-peer';
import { createSecretStore } from './create-secret-store';
import type { SecretStore } from './secret-store.port';

describe('EncryptedPostgresSecretStore bounded waits', () => {
  let peer: SilentPeer;
  let store: SecretStore | undefined;

  beforeAll(async () => {
    peer = await startSilentPeer();
  });

  afterAll(async () => {
    await store?.close?.();
    await peer.close();
  });

  it('gives up connecting to a server that accepts and never answers (connect_timeout_ms of the URL)', async () => {
    store = createSecretStore(`postgres://postgres@${peer.address}/secrets_test?connect_timeout_ms=300`, {
      key: randomBytes(32).toString('base64'),
    });
    const failure = await store.get('/e-commerce/tenants/silent/db').catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'SECRETS.UNAVAILABLE' });
    expect((failure as Error).message).toMatch(/timeout/i);
    expect(peer.accepted()).toBeGreaterThanOrEqual(1);
  }, 10_000);
});

import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startSilentPeer, type SilentPeer } from '../../../test/support/silent-peer';
import { type GitOpsConfig, GitWorkingCopy } from './git-working-copy';

const logger = pino({ level: 'silent' });
const request = { reason: 'ProvisionNamespace', tenantId: 'test-co-abc123', correlationId: 'corr-1' };

/** A remote that accepts the connection and never answers: git must be killed, and the lock released. */
describe('GitWorkingCopy with a remote that hangs', () => {
  let peer: SilentPeer;
  let base: string;

  beforeAll(async () => {
    peer = await startSilentPeer();
  });
  afterAll(async () => {
    await peer.close();
  });
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'kube-git-hang-'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('fails a commit within the command timeout as retryable, and leaves the lock free', async () => {
    // Loosely typed so that a copy of this suite still compiles against a config without the option.
    const bounded: Record<string, number> = { commandTimeoutMs: 500 };
    const config: GitOpsConfig = {
      workdir: join(base, 'wc'),
      remote: `http://${peer.address}/manifests.git`,
      branch: 'main',
      authorName: 'provisioning-test',
      authorEmail: 'provisioning@collectverything.com',
      pushAttempts: 1,
      lockTimeoutMs: 30_000,
      ...bounded,
    };
    const working = new GitWorkingCopy(config, 'TEST', logger);
    const mutate = async () => 'never reached';
    const first = await working.commit(request, mutate).catch((error: unknown) => error);
    expect(first).toMatchObject({ code: 'TEST.GITOPS_SYNC_FAILED', retryable: true });
    expect(peer.accepted()).toBeGreaterThanOrEqual(1);
    // The lock file went with the failed run: a second attempt reaches git again instead of waiting for it.
    expect(existsSync(join(base, '.wc.lock'))).toBe(false);
    const before = peer.accepted();
    const second = await working.commit(request, mutate).catch((error: unknown) => error);
    // Cloning again (SYNC_FAILED), or, when the clone cut short left its directory, fetching into it: the
    // remote does not answer there either (FETCH_FAILED). Retryable both.
    expect(second).toMatchObject({
      code: expect.stringMatching(/^TEST\.GITOPS_(SYNC|FETCH)_FAILED$/) as unknown,
      retryable: true,
    });
    expect(peer.accepted()).toBeGreaterThan(before);
  }, 15_000);
});

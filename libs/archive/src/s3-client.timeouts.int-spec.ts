import { startSilentPeer, type SilentPeer } from '../../../test/support/silent-peer';
import { createS3Client, isTransient, s3ErrorCode, type S3Endpoint } from './s3-client';

describe('S3 client bounded waits', () => {
  let peer: SilentPeer;

  beforeAll(async () => {
    peer = await startSilentPeer();
  });
  afterAll(async () => {
    await peer.close();
  });

  it('fails a request to a server that accepts and never answers, as transient', async () => {
    // Loosely typed so that a copy of this suite still compiles against an endpoint without the option.
    const bounded: Record<string, number> = { timeoutMs: 300 };
    const client = createS3Client({
      endpoint: `http://${peer.address}`,
      region: 'us-east-1',
      accessKey: 'silent-access',
      secretKey: 'silent-secret-key',
      ...bounded,
    } as S3Endpoint);
    const failure = await client.bucketExists('silent-bucket').catch((error: unknown) => error);
    expect(s3ErrorCode(failure)).toBe('ETIMEDOUT');
    expect(isTransient(failure)).toBe(true);
    expect(peer.accepted()).toBeGreaterThanOrEqual(1);
  }, 10_000);
});

import { createHash } from 'crypto';
import { signV4 as minioSignV4 } from 'minio/dist/main/signing';
import { buildUserPolicy } from '../domain/bucket-policy';
import { madminEncrypt } from '../domain/madmin-crypto';
import { MinioAdminIam } from './minio-admin.iam';
import type { HttpRequest } from './signed-http';

const NOW = new Date('2025-01-15T10:30:00Z');
const TENANT = 'abc-corporation-7f3a9c';
const USER = `${TENANT}-app-user`;
const POLICY = `${TENANT}-app-policy`;

/** Fixed randomness: salt = 32 x 0x01, nonce = 8 x 0x02. */
const random = (n: number) => Buffer.alloc(n, n === 32 ? 1 : 2);

/** `answer` decides per request (status and body); by default every request gets `status` and `reply`. */
function client(
  sent: HttpRequest[] = [],
  status = 200,
  reply = '',
  answer?: (request: HttpRequest) => { status: number; body: string },
) {
  return new MinioAdminIam({
    endpoint: 'http://minio.e-commerce-shared.svc.cluster.local:9000',
    region: 'us-east-1',
    credentials: { accessKey: 'minio-root', secretKey: 'minio-root-secret' },
    clock: () => NOW,
    random,
    transport: async (request) => {
      sent.push(request);
      const answered = answer?.(request) ?? { status, body: reply };
      return { status: answered.status, body: Buffer.from(answered.body) };
    },
  });
}

/** The Authorization header computed by minio-js's signer (a second, independent implementation). */
function expectedAuthorization(request: HttpRequest): string {
  const url = new URL(request.url);
  const sha = createHash('sha256').update(request.body).digest('hex');
  return minioSignV4(
    {
      method: request.method,
      path: `${url.pathname}${url.search}`,
      headers: { host: url.host, 'x-amz-date': '20250115T103000Z', 'x-amz-content-sha256': sha },
    } as never,
    'minio-root',
    'minio-root-secret',
    'us-east-1',
    NOW,
    sha,
    's3',
  );
}

describe('MinIO admin API client (exact requests)', () => {
  it('add-user: PUT /minio/admin/v3/add-user?accessKey=<user>, madmin-encrypted body, SigV4', () => {
    const request = client().buildAddUser(USER, 'tenant-secret-key-0123456789');
    expect(request.method).toBe('PUT');
    expect(request.url).toBe(
      `http://minio.e-commerce-shared.svc.cluster.local:9000/minio/admin/v3/add-user?accessKey=${USER}`,
    );
    expect(request.body).toEqual(
      madminEncrypt(
        'minio-root-secret',
        Buffer.from('{"secretKey":"tenant-secret-key-0123456789","status":"enabled"}'),
        Buffer.alloc(32, 1),
        Buffer.alloc(8, 2),
      ),
    );
    expect(request.headers['x-amz-date']).toBe('20250115T103000Z');
    expect(request.headers['x-amz-content-sha256']).toBe(
      createHash('sha256').update(request.body).digest('hex'),
    );
    expect(request.headers['content-type']).toBe('application/octet-stream');
    expect(request.headers.authorization).toBe(expectedAuthorization(request));
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=minio-root\/20250115\/us-east-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
  });

  it('add-canned-policy, attach, remove-user, remove-canned-policy', () => {
    const iam = client();
    const add = iam.buildAddPolicy(POLICY, buildUserPolicy(TENANT));
    expect([add.method, new URL(add.url).pathname, new URL(add.url).search]).toEqual([
      'PUT',
      '/minio/admin/v3/add-canned-policy',
      `?name=${POLICY}`,
    ]);
    expect(JSON.parse(add.body.toString())).toEqual(buildUserPolicy(TENANT));

    const attach = iam.buildAttachPolicy(POLICY, USER);
    expect([attach.method, attach.url]).toEqual([
      'POST',
      'http://minio.e-commerce-shared.svc.cluster.local:9000/minio/admin/v3/idp/builtin/policy/attach',
    ]);
    expect(attach.body).toEqual(
      madminEncrypt(
        'minio-root-secret',
        Buffer.from(`{"policies":["${POLICY}"],"user":"${USER}"}`),
        Buffer.alloc(32, 1),
        Buffer.alloc(8, 2),
      ),
    );

    const removeUser = iam.buildRemoveUser(USER);
    expect([removeUser.method, new URL(removeUser.url).search, removeUser.body.length]).toEqual([
      'DELETE',
      `?accessKey=${USER}`,
      0,
    ]);
    // Empty body: the well-known sha256 of nothing.
    expect(removeUser.headers['x-amz-content-sha256']).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    const removePolicy = iam.buildRemovePolicy(POLICY);
    expect([removePolicy.method, new URL(removePolicy.url).pathname]).toEqual([
      'DELETE',
      '/minio/admin/v3/remove-canned-policy',
    ]);
    for (const request of [removeUser, removePolicy]) {
      expect(request.headers.authorization).toBe(expectedAuthorization(request));
    }
  });

  it('sends the policy then the attachment; "already applied" and "no such user/policy" are success', async () => {
    const sent: HttpRequest[] = [];
    await client(sent).ensureUserPolicy(POLICY, USER, buildUserPolicy(TENANT));
    expect(sent.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'PUT /minio/admin/v3/add-canned-policy',
      'POST /minio/admin/v3/idp/builtin/policy/attach',
    ]);
    await expect(
      client([], 400, '{"Code":"XMinioAdminPolicyChangeAlreadyApplied"}').ensureUserPolicy(
        POLICY,
        USER,
        buildUserPolicy(TENANT),
      ),
    ).rejects.toMatchObject({ code: 'STORAGE.IAM_ADD_POLICY_FAILED', retryable: false });
    // A policy already attached (a redelivery) is success; any other refusal of the attach is not.
    const attach = (code: string) => (request: HttpRequest) =>
      new URL(request.url).pathname.endsWith('/policy/attach')
        ? { status: 400, body: JSON.stringify({ Code: code }) }
        : { status: 200, body: '' };
    await expect(
      client([], 200, '', attach('XMinioAdminPolicyChangeAlreadyApplied')).ensureUserPolicy(
        POLICY,
        USER,
        buildUserPolicy(TENANT),
      ),
    ).resolves.toBeUndefined();
    await expect(
      client([], 200, '', attach('XMinioAdminNoSuchUser')).ensureUserPolicy(
        POLICY,
        USER,
        buildUserPolicy(TENANT),
      ),
    ).rejects.toMatchObject({ retryable: false });
    await expect(
      client([], 404, '{"Code":"XMinioAdminNoSuchUser"}').removeUser(USER),
    ).resolves.toBeUndefined();
    await expect(
      client([], 404, '{"Code":"XMinioAdminNoSuchPolicy"}').removeUserPolicy(POLICY),
    ).resolves.toBeUndefined();
    await expect(client([], 503, '').ensureUser(USER, 'x'.repeat(40))).rejects.toMatchObject({
      retryable: true,
    });
    await expect(client([], 404, '{"Code":"XMinioAdminNoSuchUser"}').userExists(USER)).resolves.toBe(false);
  });

  it('bucket quota: PUT set-bucket-quota with a hard size (as `mc quota set --size`), read back; no user quota', async () => {
    const sent: HttpRequest[] = [];
    const iam = client(sent, 200, JSON.stringify({ quota: 1024, size: 1024, quotatype: 'hard' }));
    await iam.setBucketQuota(`${TENANT}-products`, 1024);
    expect(sent[0].method).toBe('PUT');
    expect(sent[0].url).toBe(
      `http://minio.e-commerce-shared.svc.cluster.local:9000/minio/admin/v3/set-bucket-quota?bucket=${TENANT}-products`,
    );
    expect(JSON.parse(sent[0].body.toString('utf8'))).toEqual({ quota: 1024, size: 1024, quotatype: 'hard' });
    expect(sent[0].headers.authorization).toBe(expectedAuthorization(sent[0]));
    expect(await iam.getBucketQuota(`${TENANT}-products`)).toBe(1024);
    expect(sent[1].url).toContain(`/minio/admin/v3/get-bucket-quota?bucket=${TENANT}-products`);
    expect(iam.userQuotas).toBe(false);
    await iam.setUserQuota(USER, { maxSizeBytes: 1, maxObjects: 1 });
    expect(sent).toHaveLength(2);
    expect(await client([], 200, '{}').getBucketQuota(`${TENANT}-sav`)).toBeNull();
  });

  it('refuses names that could reach the URL unescaped', () => {
    expect(() => client().buildRemoveUser('../x')).toThrow('invalid MinIO user name');
    expect(() => client().buildAddPolicy('a&b', buildUserPolicy(TENANT))).toThrow(
      'invalid MinIO policy name',
    );
  });
});

import { randomBytes } from 'crypto';
import { minioPrincipal, type PolicyDocument } from '../domain/bucket-policy';
import { madminEncrypt } from '../domain/madmin-crypto';
import type { IamPort, UserQuota } from './iam.port';
import { iamFailure } from './iam.port';
import {
  errorCode,
  fetchTransport,
  SignedHttpClient,
  type HttpRequest,
  type HttpTransport,
  type SignedHttpOptions,
} from './signed-http';

const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;
const ADMIN = '/minio/admin/v3';

function assertName(kind: string, name: string): void {
  if (!NAME_PATTERN.test(name)) throw new Error(`invalid MinIO ${kind} name ${JSON.stringify(name)}`);
}

export interface MinioAdminOptions extends SignedHttpOptions {
  /** Source of the encryption salt (32 bytes) and nonce (8 bytes); tests fix it. */
  random?: (n: number) => Buffer;
}

/**
 * The five MinIO admin API calls the storage-service needs (what `mc admin user add`, `mc admin policy
 * create|attach|rm` and `mc admin user rm` send), signed with SigV4 (service `s3`). MinIO ships no JS admin
 * client. add-user and policy attach bodies are madmin-encrypted with the admin secret key (see
 * madmin-crypto.ts). Requests are built by `build*` methods so tests can check them byte for byte.
 */
export class MinioAdminIam implements IamPort {
  readonly kind = 'minio' as const;
  readonly principal = minioPrincipal;
  private readonly http: SignedHttpClient;
  private readonly random: (n: number) => Buffer;
  private readonly transport: HttpTransport;

  constructor(private readonly options: MinioAdminOptions) {
    this.http = new SignedHttpClient(options);
    this.random = options.random ?? randomBytes;
    this.transport = options.transport ?? fetchTransport();
  }

  private encrypt(value: unknown): Buffer {
    return madminEncrypt(
      this.options.credentials.secretKey,
      Buffer.from(JSON.stringify(value), 'utf8'),
      this.random(32),
      this.random(8),
    );
  }

  buildAddUser(userName: string, secretKey: string): HttpRequest {
    assertName('user', userName);
    const body = this.encrypt({ secretKey, status: 'enabled' });
    return this.http.build('PUT', `${ADMIN}/add-user`, [['accessKey', userName]], body, {
      'content-type': 'application/octet-stream',
    });
  }

  buildUserInfo(userName: string): HttpRequest {
    assertName('user', userName);
    return this.http.build('GET', `${ADMIN}/user-info`, [['accessKey', userName]]);
  }

  buildAddPolicy(policyName: string, policy: PolicyDocument): HttpRequest {
    assertName('policy', policyName);
    return this.http.build(
      'PUT',
      `${ADMIN}/add-canned-policy`,
      [['name', policyName]],
      Buffer.from(JSON.stringify(policy)),
      {
        'content-type': 'application/json',
      },
    );
  }

  buildAttachPolicy(policyName: string, userName: string): HttpRequest {
    assertName('policy', policyName);
    assertName('user', userName);
    const body = this.encrypt({ policies: [policyName], user: userName });
    return this.http.build('POST', `${ADMIN}/idp/builtin/policy/attach`, [], body, {
      'content-type': 'application/octet-stream',
    });
  }

  buildRemoveUser(userName: string): HttpRequest {
    assertName('user', userName);
    return this.http.build('DELETE', `${ADMIN}/remove-user`, [['accessKey', userName]]);
  }

  buildRemovePolicy(policyName: string): HttpRequest {
    assertName('policy', policyName);
    return this.http.build('DELETE', `${ADMIN}/remove-canned-policy`, [['name', policyName]]);
  }

  /** What `mc quota set --size` sends (madmin BucketQuota: the older `quota` field and `size`, both bytes). */
  buildSetBucketQuota(bucket: string, maxSizeBytes: number): HttpRequest {
    assertName('bucket', bucket);
    const body = Buffer.from(JSON.stringify({ quota: maxSizeBytes, size: maxSizeBytes, quotatype: 'hard' }));
    return this.http.build('PUT', `${ADMIN}/set-bucket-quota`, [['bucket', bucket]], body, {
      'content-type': 'application/json',
    });
  }

  buildGetBucketQuota(bucket: string): HttpRequest {
    assertName('bucket', bucket);
    return this.http.build('GET', `${ADMIN}/get-bucket-quota`, [['bucket', bucket]]);
  }

  private async call(operation: string, request: HttpRequest, okCodes: string[] = []): Promise<void> {
    const res = await this.transport(request);
    if (res.status >= 200 && res.status < 300) return;
    if (okCodes.includes(errorCode(res.body))) return;
    throw iamFailure(operation, res.status, errorCode(res.body));
  }

  async ensureUser(userName: string, secretKey: string): Promise<void> {
    // add-user sets the secret of an existing user too: PUT semantics.
    await this.call('add_user', this.buildAddUser(userName, secretKey));
  }

  async userExists(userName: string): Promise<boolean> {
    const res = await this.transport(this.buildUserInfo(userName));
    if (res.status === 200) return true;
    if (errorCode(res.body) === 'XMinioAdminNoSuchUser' || res.status === 404) return false;
    throw iamFailure('user_info', res.status, errorCode(res.body));
  }

  async ensureUserPolicy(policyName: string, userName: string, policy: PolicyDocument): Promise<void> {
    await this.call('add_policy', this.buildAddPolicy(policyName, policy));
    await this.call('attach_policy', this.buildAttachPolicy(policyName, userName), [
      'XMinioAdminPolicyChangeAlreadyApplied',
    ]);
  }

  async removeUser(userName: string): Promise<void> {
    await this.call('remove_user', this.buildRemoveUser(userName), ['XMinioAdminNoSuchUser']);
  }

  async removeUserPolicy(policyName: string): Promise<void> {
    await this.call('remove_policy', this.buildRemovePolicy(policyName), ['XMinioAdminNoSuchPolicy']);
  }

  /** MinIO has no per-user quota: the tenant's user can write only to its buckets, which carry the quotas. */
  readonly userQuotas = false;

  async setUserQuota(_userName: string, _quota: UserQuota): Promise<void> {
    // See userQuotas.
  }

  async getUserQuota(): Promise<UserQuota | null> {
    return null;
  }

  async setBucketQuota(bucket: string, maxSizeBytes: number): Promise<void> {
    await this.call('set_bucket_quota', this.buildSetBucketQuota(bucket, maxSizeBytes));
  }

  async getBucketQuota(bucket: string): Promise<number | null> {
    const res = await this.transport(this.buildGetBucketQuota(bucket));
    if (res.status !== 200) throw iamFailure('get_bucket_quota', res.status, errorCode(res.body));
    const quota = JSON.parse(res.body.toString('utf8') || '{}') as { size?: number; quota?: number };
    const bytes = quota.size || quota.quota || 0;
    return bytes > 0 ? bytes : null;
  }
}

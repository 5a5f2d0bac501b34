import { rgwPrincipal } from '../domain/bucket-policy';
import type { IamPort, UserQuota } from './iam.port';
import { iamFailure } from './iam.port';
import { errorCode, SignedHttpClient, type SignedHttpOptions } from './signed-http';

const USER_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

function assertUser(userName: string): void {
  if (!USER_PATTERN.test(userName))
    throw new Error(`invalid object-store user name ${JSON.stringify(userName)}`);
}

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

interface RgwQuota {
  enabled: boolean;
  max_size: number;
  max_objects: number;
}

interface RgwUserInfo {
  user_id: string;
  keys: { user: string; access_key: string; secret_key: string }[];
}

/**
 * Ceph RADOS Gateway admin-ops (`/admin/user`), signed with the admin user's keys (caps users=*). The
 * tenant's user is an RGW user whose uid and S3 access key are both `<tenantId>-app-user`; rights come from
 * the bucket policy (principal `arn:aws:iam:::user/<uid>`), so there is no identity policy to attach.
 */
export class RgwAdminIam implements IamPort {
  readonly kind = 'rgw' as const;
  readonly principal = rgwPrincipal;
  private readonly http: SignedHttpClient;

  constructor(options: SignedHttpOptions) {
    this.http = new SignedHttpClient(options);
  }

  private async info(userName: string): Promise<RgwUserInfo | null> {
    const res = await this.http.send('GET', '/admin/user', [
      ['uid', userName],
      ['format', 'json'],
    ]);
    if (res.status === 404) return null;
    if (res.status !== 200) throw iamFailure('get_user', res.status, errorCode(res.body));
    return JSON.parse(res.body.toString('utf8')) as RgwUserInfo;
  }

  async userExists(userName: string): Promise<boolean> {
    assertUser(userName);
    return (await this.info(userName)) !== null;
  }

  async ensureUser(userName: string, secretKey: string): Promise<void> {
    assertUser(userName);
    const existing = await this.info(userName);
    if (!existing) {
      const res = await this.http.send('PUT', '/admin/user', [
        ['uid', userName],
        ['display-name', userName],
        ['access-key', userName],
        ['secret-key', secretKey],
        ['key-type', 's3'],
        ['format', 'json'],
      ]);
      // A concurrent delivery may have created it between our GET and PUT: converge through the key path.
      if (res.status === 200) return;
      if (res.status !== 409) throw iamFailure('create_user', res.status, errorCode(res.body));
    } else if (existing.keys.some((k) => k.access_key === userName && k.secret_key === secretKey)) {
      return;
    }
    const res = await this.http.send('PUT', '/admin/user', [
      ['key', ''],
      ['uid', userName],
      ['access-key', userName],
      ['secret-key', secretKey],
      ['key-type', 's3'],
      ['format', 'json'],
    ]);
    if (res.status !== 200) throw iamFailure('set_user_key', res.status, errorCode(res.body));
  }

  async ensureUserPolicy(): Promise<void> {
    // RGW grants through the bucket policy set by the handler; nothing to attach to the user.
  }

  async removeUserPolicy(): Promise<void> {
    // See ensureUserPolicy.
  }

  async removeUser(userName: string): Promise<void> {
    assertUser(userName);
    const res = await this.http.send('DELETE', '/admin/user', [
      ['uid', userName],
      ['purge-data', 'false'],
    ]);
    if (res.status === 200 || res.status === 404) return;
    throw iamFailure('remove_user', res.status, errorCode(res.body));
  }

  readonly userQuotas = true;

  /**
   * RGW reads a quota from the query (`enabled`, `max-size`, `max-objects`); it answers 501 to the JSON body
   * its documentation also describes.
   */
  async setUserQuota(userName: string, quota: UserQuota): Promise<void> {
    assertUser(userName);
    const res = await this.http.send('PUT', '/admin/user', [
      ['quota', ''],
      ['uid', userName],
      ['quota-type', 'user'],
      ['enabled', 'true'],
      ['max-size', String(quota.maxSizeBytes)],
      ['max-objects', String(quota.maxObjects)],
    ]);
    if (res.status !== 200) throw iamFailure('set_user_quota', res.status, errorCode(res.body));
  }

  async getUserQuota(userName: string): Promise<UserQuota | null> {
    assertUser(userName);
    const res = await this.http.send('GET', '/admin/user', [
      ['quota', ''],
      ['uid', userName],
      ['quota-type', 'user'],
    ]);
    if (res.status === 404) return null;
    if (res.status !== 200) throw iamFailure('get_user_quota', res.status, errorCode(res.body));
    const quota = JSON.parse(res.body.toString('utf8')) as RgwQuota;
    return quota.enabled ? { maxSizeBytes: quota.max_size, maxObjects: quota.max_objects } : null;
  }

  /**
   * A bucket quota is set through its owner (the account that created it, here the control plane's). This
   * call reads the size from `max-size-kb` only (a `max-size` is ignored and the quota left at 0 bytes).
   */
  async setBucketQuota(bucket: string, maxSizeBytes: number): Promise<void> {
    const owner = (await this.bucketInfo(bucket)).owner;
    const res = await this.http.send('PUT', '/admin/bucket', [
      ['quota', ''],
      ['uid', owner],
      ['bucket', bucket],
      ['enabled', 'true'],
      ['max-size-kb', String(Math.ceil(maxSizeBytes / 1024))],
      ['max-objects', '-1'],
    ]);
    if (res.status !== 200) throw iamFailure('set_bucket_quota', res.status, errorCode(res.body));
  }

  async getBucketQuota(bucket: string): Promise<number | null> {
    const quota = (await this.bucketInfo(bucket)).bucket_quota;
    return quota.enabled && quota.max_size >= 0 ? quota.max_size : null;
  }

  private async bucketInfo(bucket: string): Promise<{ owner: string; bucket_quota: RgwQuota }> {
    if (!BUCKET_PATTERN.test(bucket)) throw new Error(`invalid bucket name ${JSON.stringify(bucket)}`);
    const res = await this.http.send('GET', '/admin/bucket', [
      ['bucket', bucket],
      ['format', 'json'],
    ]);
    if (res.status !== 200) throw iamFailure('get_bucket', res.status, errorCode(res.body));
    return JSON.parse(res.body.toString('utf8')) as { owner: string; bucket_quota: RgwQuota };
  }

  /** Every uid on the gateway (metadata caps); tests use it to prove nothing was left behind. */
  async listUsers(): Promise<string[]> {
    const res = await this.http.send('GET', '/admin/metadata/user', [['format', 'json']]);
    if (res.status !== 200) throw iamFailure('list_users', res.status, errorCode(res.body));
    return (JSON.parse(res.body.toString('utf8')) as string[]).sort();
  }
}

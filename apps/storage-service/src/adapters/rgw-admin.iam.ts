import { rgwPrincipal } from '../domain/bucket-policy';
import type { IamPort } from './iam.port';
import { iamFailure } from './iam.port';
import { errorCode, SignedHttpClient, type SignedHttpOptions } from './signed-http';

const USER_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

function assertUser(userName: string): void {
  if (!USER_PATTERN.test(userName))
    throw new Error(`invalid object-store user name ${JSON.stringify(userName)}`);
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

  /** Every uid on the gateway (metadata caps); tests use it to prove nothing was left behind. */
  async listUsers(): Promise<string[]> {
    const res = await this.http.send('GET', '/admin/metadata/user', [['format', 'json']]);
    if (res.status !== 200) throw iamFailure('list_users', res.status, errorCode(res.body));
    return (JSON.parse(res.body.toString('utf8')) as string[]).sort();
  }
}

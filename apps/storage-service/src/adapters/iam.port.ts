import type { PolicyDocument, PrincipalFormat } from '../domain/bucket-policy';

/**
 * User management on the object store. Server-specific (MinIO admin API vs Ceph RGW admin-ops), so the
 * handlers see only this port. Every operation is idempotent.
 */
export interface IamPort {
  readonly kind: 'minio' | 'rgw';
  /** How this server names a user in a bucket-policy principal. */
  readonly principal: PrincipalFormat;
  /** Creates the user with this access/secret key pair, or sets the key on an existing user (PUT semantics). */
  ensureUser(userName: string, secretKey: string): Promise<void>;
  userExists(userName: string): Promise<boolean>;
  /** Attaches `policy` to the user as an identity policy; a no-op where the bucket policy carries the grant. */
  ensureUserPolicy(policyName: string, userName: string, policy: PolicyDocument): Promise<void>;
  /** Absent is success. */
  removeUser(userName: string): Promise<void>;
  /** Absent is success. */
  removeUserPolicy(policyName: string): Promise<void>;
  /** Whether the server keeps a quota per user (RGW does; MinIO has bucket quotas only). */
  readonly userQuotas: boolean;
  /** Sets the user's quota over the buckets it owns (PUT semantics); a no-op where `userQuotas` is false. */
  setUserQuota(userName: string, quota: UserQuota): Promise<void>;
  /** The user's enabled quota; null when it has none or the server keeps none. */
  getUserQuota(userName: string): Promise<UserQuota | null>;
  /** Sets a hard size quota on the bucket, whoever owns it (PUT semantics). */
  setBucketQuota(bucket: string, maxSizeBytes: number): Promise<void>;
  /** The bucket's hard size quota in bytes; null when it has none. */
  getBucketQuota(bucket: string): Promise<number | null>;
}

export interface UserQuota {
  maxSizeBytes: number;
  maxObjects: number;
}

export class IamError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'IamError';
  }
}

/** 5xx, 429 and transport failures are worth retrying; other refusals are not. */
export function iamFailure(operation: string, status: number, serverCode: string): IamError {
  const retryable = status >= 500 || status === 429 || status === 0;
  return new IamError(
    `STORAGE.IAM_${operation.toUpperCase()}_FAILED`,
    `${operation} refused by the object store (HTTP ${status}${serverCode ? `, ${serverCode}` : ''})`,
    retryable,
  );
}

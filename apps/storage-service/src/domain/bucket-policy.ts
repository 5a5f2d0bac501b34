import { BUCKET_KINDS, bucketName, storageUserName } from '@app/contracts';

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | { AWS: string[] };
  Action: string[];
  Resource: string[];
}
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** How a server names a user in a bucket-policy principal: MinIO as the spec writes it, RGW without account. */
export type PrincipalFormat = (userName: string) => string;
export const minioPrincipal: PrincipalFormat = (user) => `arn:aws:iam::*:user/${user}`;
export const rgwPrincipal: PrincipalFormat = (user) => `arn:aws:iam:::user/${user}`;

export const TENANT_ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket'];
export const PUBLIC_PREFIX = 'public/';

/**
 * The tenant's object and bucket ARNs. The spec lists only `<bucket>/*`, but s3:ListBucket is a bucket-level
 * action matched against `arn:aws:s3:::<bucket>`: without the bucket ARN the tenant could not list its own
 * buckets, so both are included (the object actions simply do not match the bucket ARN).
 */
function tenantResources(tenantId: string): string[] {
  return BUCKET_KINDS.flatMap((kind) => {
    const bucket = bucketName(tenantId, kind);
    return [`arn:aws:s3:::${bucket}/*`, `arn:aws:s3:::${bucket}`];
  });
}

/**
 * Spec 4.2's bucket policy: the tenant's user has full object access to its three buckets, anyone may read
 * `<tenant>-products/public/*`, nothing else is public (sav and newsletters stay private). The same document
 * is set on each of the three buckets (a server only applies the statements whose resources are its own).
 */
export function buildBucketPolicy(tenantId: string, principal: PrincipalFormat): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'TenantFullAccess',
        Effect: 'Allow',
        Principal: { AWS: [principal(storageUserName(tenantId))] },
        Action: [...TENANT_ACTIONS],
        Resource: tenantResources(tenantId),
      },
      {
        Sid: 'PublicReadProducts',
        Effect: 'Allow',
        Principal: '*',
        Action: ['s3:GetObject'],
        Resource: [`arn:aws:s3:::${bucketName(tenantId, 'products')}/${PUBLIC_PREFIX}*`],
      },
    ],
  };
}

/**
 * The statements of one bucket only: a server such as RGW refuses a bucket policy naming another bucket's
 * resources, so each bucket gets the subset of the spec's document that concerns it.
 */
export function bucketPolicyFor(document: PolicyDocument, bucket: string): PolicyDocument {
  const own = (arn: string) => arn === `arn:aws:s3:::${bucket}` || arn.startsWith(`arn:aws:s3:::${bucket}/`);
  return {
    Version: document.Version,
    Statement: document.Statement.map((s) => ({ ...s, Resource: s.Resource.filter(own) })).filter(
      (s) => s.Resource.length > 0,
    ),
  };
}

/**
 * The same grant as an identity (canned) policy, for servers where users get rights through attached
 * policies (MinIO's `mc admin policy attach`): no Principal element.
 */
export function buildUserPolicy(tenantId: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'TenantFullAccess',
        Effect: 'Allow',
        Action: [...TENANT_ACTIONS],
        Resource: tenantResources(tenantId),
      },
    ],
  };
}

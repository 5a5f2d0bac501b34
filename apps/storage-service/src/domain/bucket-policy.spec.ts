import {
  bucketPolicyFor,
  buildBucketPolicy,
  buildUserPolicy,
  minioPrincipal,
  rgwPrincipal,
} from './bucket-policy';

const T = 'abc-corporation-7f3a9c';

describe('bucket policy (spec 4.2)', () => {
  it('keeps the spec shape with the server principal, adding bucket ARNs for s3:ListBucket', () => {
    const policy = buildBucketPolicy(T, minioPrincipal);
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'TenantFullAccess',
          Effect: 'Allow',
          Principal: { AWS: [`arn:aws:iam::*:user/${T}-app-user`] },
          Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket'],
          Resource: [
            `arn:aws:s3:::${T}-products/*`,
            `arn:aws:s3:::${T}-products`,
            `arn:aws:s3:::${T}-sav/*`,
            `arn:aws:s3:::${T}-sav`,
            `arn:aws:s3:::${T}-newsletters/*`,
            `arn:aws:s3:::${T}-newsletters`,
          ],
        },
        {
          Sid: 'PublicReadProducts',
          Effect: 'Allow',
          Principal: '*',
          Action: ['s3:GetObject'],
          Resource: [`arn:aws:s3:::${T}-products/public/*`],
        },
      ],
    });
    expect(buildBucketPolicy(T, rgwPrincipal).Statement[0].Principal).toEqual({
      AWS: [`arn:aws:iam:::user/${T}-app-user`],
    });
  });

  it('gives each bucket only its own statements: public read on products only', () => {
    const policy = buildBucketPolicy(T, rgwPrincipal);
    const sav = bucketPolicyFor(policy, `${T}-sav`);
    expect(sav.Statement).toHaveLength(1);
    expect(sav.Statement[0].Resource).toEqual([`arn:aws:s3:::${T}-sav/*`, `arn:aws:s3:::${T}-sav`]);
    const products = bucketPolicyFor(policy, `${T}-products`);
    expect(products.Statement.map((s) => s.Sid)).toEqual(['TenantFullAccess', 'PublicReadProducts']);
    // A bucket whose name extends another's must not pick up its statements.
    expect(bucketPolicyFor(policy, `${T}-product`).Statement).toEqual([]);
  });

  it('renders the identity policy without a principal', () => {
    const policy = buildUserPolicy(T);
    expect(policy.Statement[0].Principal).toBeUndefined();
    expect(policy.Statement[0].Resource).toContain(`arn:aws:s3:::${T}-newsletters/*`);
  });

  it('refuses an invalid tenant id', () => {
    expect(() => buildBucketPolicy('Bad_Id', rgwPrincipal)).toThrow();
  });
});

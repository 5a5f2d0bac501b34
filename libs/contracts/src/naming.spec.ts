import fc from 'fast-check';
import {
  BUCKET_KINDS,
  BUSINESS_SERVICES,
  brokerUserName,
  bucketName,
  customerStream,
  databaseName,
  databaseSecretPath,
  databaseUserName,
  domainFor,
  domainStream,
  generateTenantId,
  namespaceName,
  slugify,
  subscriptionStream,
  TENANT_ID_MAX_LENGTH,
  tenantExchangeName,
  tenantIdFromStream,
  tenantQueueName,
  tenantStream,
  TENANT_QUEUES,
  vhostName,
  argoApplicationName,
  storageUserName,
  adminInitialSecretPath,
} from './index';

const RFC1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// S3 bucket naming rules: 3-63 of lowercase letters, digits, dots, hyphens; starts/ends alphanumeric; not an IP.
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// Unquoted MySQL identifier characters we allow ourselves: [a-z0-9_], at most 64 (database) / 32 (user).
const MYSQL_IDENT = /^[a-z0-9_]+$/;
// RabbitMQ names are up to 255 bytes of UTF-8; we keep to a printable ASCII subset safe in URLs.
const RABBIT_NAME = /^[a-z0-9._-]{1,255}$/;

const hex6 = fc.stringMatching(/^[0-9a-f]{6}$/);
const companyNames = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 120 }),
  fc.stringMatching(/^[A-Za-z0-9 ]{3,100}$/),
  fc.constantFrom(
    '',
    '   ',
    '---',
    'Société Générale',
    'ÅÄÖ',
    '日本企業',
    'a'.repeat(500),
    'X`; DROP DATABASE mysql; --',
  ),
);

describe('tenant id (spec 1.3)', () => {
  it('follows the spec example: "ABC Corporation" → abc-corporation- + 6 hex', () => {
    expect(generateTenantId('ABC Corporation', '7f3a9c')).toBe('abc-corporation-7f3a9c');
    expect(generateTenantId('ABC Corporation', 'a1b2c3')).toMatch(/^abc-corporation-[0-9a-f]{6}$/);
  });

  it('lowercases before stripping, truncates to 20 and trims dashes again', () => {
    expect(slugify('ABC Corporation')).toBe('abc-corporation');
    expect(slugify('  Hello,   World!! ')).toBe('hello-world');
    expect(slugify('Very Long Company Name International')).toBe('very-long-company-na');
    expect(slugify('Abcdefghijklmnopqrs Tuv')).toBe('abcdefghijklmnopqrs');
    expect(slugify('Société Générale')).toBe('societe-generale');
    expect(slugify('!!!')).toBe('tenant');
  });

  it('refuses a suffix that is not 6 lowercase hex digits', () => {
    expect(() => generateTenantId('ABC', 'XYZ123')).toThrow(/6 lowercase hex/);
  });

  it('yields names valid for every target system, whatever the company name', () => {
    fc.assert(
      fc.property(companyNames, hex6, (name, suffix) => {
        const id = generateTenantId(name, suffix);
        expect(id.length).toBeLessThanOrEqual(TENANT_ID_MAX_LENGTH);
        expect(tenantIdFromStream(tenantStream(id))).toBe(id);

        const ns = namespaceName(id);
        expect(ns).toMatch(RFC1123_LABEL);
        expect(ns.length).toBeLessThanOrEqual(63);
        expect(argoApplicationName(id)).toMatch(DNS_SUBDOMAIN);

        for (const kind of BUCKET_KINDS) {
          const bucket = bucketName(id, kind);
          expect(bucket).toMatch(S3_BUCKET);
          expect(bucket).not.toMatch(/\.\.|^\d+\.\d+\.\d+\.\d+$|^xn--/);
        }
        for (const service of BUSINESS_SERVICES) {
          const db = databaseName(id, service);
          expect(db).toMatch(MYSQL_IDENT);
          expect(db.length).toBeLessThanOrEqual(64);
          const user = databaseUserName(id, service);
          expect(user).toMatch(MYSQL_IDENT);
          expect(user.length).toBeLessThanOrEqual(32);
          expect(databaseSecretPath(id, service)).toBe(`/e-commerce/tenants/${id}/${service}-db`);
        }
        expect(adminInitialSecretPath(id)).toBe(`/e-commerce/tenants/${id}/admin-initial`);
        for (const name of [vhostName(id), brokerUserName(id), tenantExchangeName(id), storageUserName(id)]) {
          expect(name).toMatch(RABBIT_NAME);
        }
        for (const queue of TENANT_QUEUES) expect(tenantQueueName(id, queue.kind)).toMatch(RABBIT_NAME);

        const domain = domainFor(id);
        expect(domain).toMatch(DNS_SUBDOMAIN);
        expect(domain.split('.')[0].length).toBeLessThanOrEqual(63);
      }),
      { numRuns: 500 },
    );
  });
});

describe('derived names (spec 3.1, 4.1, 5.x, 2.1)', () => {
  const id = 'abc-corporation-7f3a9c';

  it('match the spec examples', () => {
    expect(namespaceName(id)).toBe('e-commerce-abc-corporation-7f3a9c');
    expect(databaseName(id, 'auth')).toBe('abc_corporation_7f3a9c_auth_db');
    expect(databaseName(id, 'websites')).toBe('abc_corporation_7f3a9c_websites_db');
    expect(databaseUserName(id, 'auth')).toBe('abc_corporation_7f3a9c_auth_user');
    expect(bucketName(id, 'products')).toBe('abc-corporation-7f3a9c-products');
    expect(storageUserName(id)).toBe('abc-corporation-7f3a9c-app-user');
    expect(vhostName(id)).toBe('abc-corporation-7f3a9c');
    expect(brokerUserName(id)).toBe('abc-corporation-7f3a9c-app-user');
    expect(tenantExchangeName(id)).toBe('abc-corporation-7f3a9c.events');
    expect(tenantQueueName(id, 'auth')).toBe('abc-corporation-7f3a9c.auth');
    expect(domainFor(id)).toBe('abc-corporation.collectverything.com');
    expect(argoApplicationName(id)).toBe('tenant-abc-corporation-7f3a9c');
  });

  it('keeps MySQL user names within 32 characters for the longest tenant id, uniquely', () => {
    const longest = `${'a'.repeat(20)}-ffffff`;
    expect(longest.length).toBe(TENANT_ID_MAX_LENGTH);
    const users = BUSINESS_SERVICES.map((service) => databaseUserName(longest, service));
    for (const user of users) expect(user.length).toBeLessThanOrEqual(32);
    expect(new Set(users).size).toBe(BUSINESS_SERVICES.length);
    expect(databaseUserName(longest, 'newsletters')).toBe('aaaaaaaaaaaaaaaaaaaa_ffffff_ne_u');
  });

  it('never gives two tenants or two services the same database user', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9]{1,20}$/),
        fc.stringMatching(/^[a-z0-9]{1,20}$/),
        hex6,
        hex6,
        (a, b, s1, s2) => {
          const t1 = `${a}-${s1}`;
          const t2 = `${b}-${s2}`;
          fc.pre(t1 !== t2);
          const u1 = new Set(BUSINESS_SERVICES.map((s) => databaseUserName(t1, s)));
          for (const s of BUSINESS_SERVICES) expect(u1.has(databaseUserName(t2, s))).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses anything that is not a tenant id before building a name', () => {
    for (const hostile of [
      'x`; DROP DATABASE mysql; --',
      '../etc',
      'ABC-123456',
      'abc-12345',
      'abc_def-123456',
      '',
    ]) {
      expect(() => databaseName(hostile, 'auth')).toThrow(/invalid tenant id/);
      expect(() => namespaceName(hostile)).toThrow(/invalid tenant id/);
      expect(() => bucketName(hostile, 'sav')).toThrow(/invalid tenant id/);
    }
    expect(() => databaseName(id, 'billing' as never)).toThrow(/unknown business service/);
  });

  it('disambiguates domains for customers with the same name', () => {
    expect(domainFor(id, 2)).toBe('abc-corporation-2.collectverything.com');
    expect(() => domainFor(id, 0)).toThrow();
  });

  it('names streams, validating what goes into them', () => {
    expect(tenantStream(id)).toBe('tenant-abc-corporation-7f3a9c');
    expect(subscriptionStream('sub_abc123')).toBe('subscription-sub_abc123');
    expect(() => subscriptionStream('sub abc')).toThrow();
    expect(domainStream('abc-corporation.collectverything.com')).toBe(
      'domain-abc-corporation.collectverything.com',
    );
    expect(customerStream('Admin@ABC-corp.com ')).toBe(customerStream('admin@abc-corp.com'));
    expect(customerStream('admin@abc-corp.com')).not.toContain('abc');
  });
});

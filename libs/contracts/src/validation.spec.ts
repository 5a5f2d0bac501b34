import { MAX_PAYLOAD_DEPTH, validateSubscriptionCancelled, validateSubscriptionCreated } from './index';

/** The spec's own example payload (1.1). */
const specSubscriptionCreated = () => ({
  event: 'subscription.created',
  timestamp: '2025-01-15T10:00:00Z',
  data: {
    subscription_id: 'sub_abc123',
    customer: { name: 'ABC Corporation', email: 'admin@abc-corp.com', billing_email: 'billing@abc-corp.com' },
    plan: { tier: 'premium', price: 124.99, currency: 'EUR', billing_period: 'monthly' },
    metadata: { company_size: '50-200', industry: 'retail', region: 'us-east' },
  },
});

function fields(payload: unknown): string[] {
  const result = validateSubscriptionCreated(payload);
  return result.ok ? [] : result.violations.map((v) => v.field);
}

describe('subscription.created validation (spec 1.2)', () => {
  it('accepts the spec example', () => {
    const result = validateSubscriptionCreated(specSubscriptionCreated());
    expect(result.ok).toBe(true);
  });

  it('reports every violated rule by field, not just false', () => {
    const bad = specSubscriptionCreated();
    bad.data.customer.name = 'AB';
    bad.data.customer.email = 'not-an-email';
    bad.data.plan.tier = 'gold';
    bad.data.metadata.region = 'mars';
    const result = validateSubscriptionCreated(bad);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.violations.map((v) => v.field).sort()).toEqual([
      'data.customer.email',
      'data.customer.name',
      'data.metadata.region',
      'data.plan.tier',
    ]);
    expect(result.violations.find((v) => v.field === 'data.plan.tier')?.messages[0]).toContain(
      'standard, premium, business',
    );
  });

  it.each([
    ['special characters', 'ABC Corp.'],
    ['control characters', 'ABC\nCorporation'],
    ['tabs', 'ABC\tCorporation'],
    ['injection', "x'; DROP TABLE tenants; --"],
    ['only spaces', '    '],
    ['too long', 'A'.repeat(101)],
    ['a number', 42],
  ])('refuses a company name with %s', (_label, name) => {
    const payload = specSubscriptionCreated() as unknown as { data: { customer: { name: unknown } } };
    payload.data.customer.name = name;
    expect(fields(payload)).toEqual(['data.customer.name']);
  });

  it.each([
    ['CR/LF in a quoted local part (header injection)', '"x\r\nBcc: all@evil.example"@abc-corp.com'],
    ['a NUL in a quoted local part', '"admin\u0000"@abc-corp.com'],
    ['angle brackets in a quoted local part', '"<admin>"@abc-corp.com'],
    ['a quoted local part at all', '"john doe"@abc-corp.com'],
    ['a display name', 'Admin <admin@abc-corp.com>'],
  ])('refuses an e-mail address with %s, for email and billing_email', (_label, address) => {
    const admin = specSubscriptionCreated();
    admin.data.customer.email = address;
    expect(fields(admin)).toEqual(['data.customer.email']);
    const billing = specSubscriptionCreated();
    billing.data.customer.billing_email = address;
    expect(fields(billing)).toEqual(['data.customer.billing_email']);
  });

  it.each([
    'admin@abc-corp.com',
    'first.last+shop@abc-corp.co.uk',
    "o'brien@abc-corp.com",
    'josé@abc-corp.fr',
  ])('accepts an ordinary e-mail address: %s', (address) => {
    const payload = specSubscriptionCreated();
    payload.data.customer.email = address;
    expect(fields(payload)).toEqual([]);
  });

  it('refuses a payload nested beyond the limit with a violation, not a stack overflow', () => {
    const payload = specSubscriptionCreated() as unknown as { data: { metadata: Record<string, unknown> } };
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100000; i += 1) deep = { x: deep };
    payload.data.metadata.extra = deep;
    const result = validateSubscriptionCreated(payload);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.violations).toEqual([
      {
        field: `data.metadata.extra${'.x'.repeat(MAX_PAYLOAD_DEPTH - 2)}`,
        rules: ['maxDepth'],
        messages: [`nested deeper than ${MAX_PAYLOAD_DEPTH} levels`],
      },
    ]);
    // Within the limit, extra nesting is only stripped (unknown fields), as before.
    let shallow: Record<string, unknown> = {};
    for (let i = 0; i < MAX_PAYLOAD_DEPTH - 3; i += 1) shallow = { x: shallow };
    payload.data.metadata.extra = shallow;
    expect(validateSubscriptionCreated(payload).ok).toBe(true);
  });

  it('accepts 3 and 100 characters of letters, digits and spaces', () => {
    for (const name of ['ABC', 'A'.repeat(100), 'Shop 42 Paris']) {
      const payload = specSubscriptionCreated();
      payload.data.customer.name = name;
      expect(fields(payload)).toEqual([]);
    }
  });

  it('refuses non-objects, missing parts and wrong types', () => {
    expect(fields(null)).toEqual(['']);
    expect(fields([])).toEqual(['']);
    expect(fields('subscription.created')).toEqual(['']);
    expect(fields({})).toEqual(expect.arrayContaining(['event', 'timestamp', 'data']));
    const payload = specSubscriptionCreated() as unknown as { data: { plan: { price: unknown } } };
    payload.data.plan.price = '124.99';
    expect(fields(payload)).toEqual(['data.plan.price']);
  });

  it('refuses a subscription id that could not name a stream safely', () => {
    const payload = specSubscriptionCreated();
    payload.data.subscription_id = 'sub/../../x';
    expect(fields(payload)).toEqual(['data.subscription_id']);
  });
});

describe('subscription.cancelled validation', () => {
  const cancelled = () => ({
    event: 'subscription.cancelled',
    timestamp: '2025-06-15T10:00:00Z',
    data: {
      subscription_id: 'sub_abc123',
      tenant_id: 'abc-corporation-7f3a9c',
      cancellation_reason: 'downgrade',
      effective_date: '2025-07-15T00:00:00Z',
    },
  });

  it('accepts the spec example, with or without effective date', () => {
    expect(validateSubscriptionCancelled(cancelled()).ok).toBe(true);
    const withoutDate: Record<string, unknown> = cancelled();
    delete (withoutDate.data as Record<string, unknown>).effective_date;
    expect(validateSubscriptionCancelled(withoutDate).ok).toBe(true);
  });

  it('refuses a malformed tenant id and date', () => {
    const payload = cancelled();
    payload.data.tenant_id = 'ABC; rm -rf /';
    payload.data.effective_date = 'next week';
    const result = validateSubscriptionCancelled(payload);
    expect(result.ok ? [] : result.violations.map((v) => v.field).sort()).toEqual([
      'data.effective_date',
      'data.tenant_id',
    ]);
  });
});

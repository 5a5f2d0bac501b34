import {
  validateSubscriptionReactivated,
  validateSubscriptionResumed,
  validateSubscriptionSuspended,
  validateSubscriptionUpdated,
  type ValidationResult,
} from './index';

const ref = { subscription_id: 'sub_abc123', tenant_id: 'abc-corporation-7f3a9c' };

function fields<T>(result: ValidationResult<T>): string[] {
  return result.ok ? [] : result.violations.map((v) => v.field).sort();
}

describe('subscription.updated validation', () => {
  const updated = (plan: Record<string, unknown> = { tier: 'business' }) => ({
    event: 'subscription.updated',
    timestamp: '2025-03-01T10:00:00Z',
    data: { ...ref, plan },
  });

  it('accepts a new tier, alone or with the rest of the plan', () => {
    expect(validateSubscriptionUpdated(updated()).ok).toBe(true);
    const full = { tier: 'standard', price: 49.99, currency: 'EUR', billing_period: 'annual' };
    const result = validateSubscriptionUpdated(updated(full));
    expect(result.ok && result.value.data.plan.tier).toBe('standard');
  });

  it('refuses an unknown tier, a missing plan and a bad tenant id, each by field', () => {
    expect(fields(validateSubscriptionUpdated(updated({ tier: 'gold' })))).toEqual(['data.plan.tier']);
    const noPlan = { event: 'subscription.updated', timestamp: '2025-03-01T10:00:00Z', data: { ...ref } };
    expect(fields(validateSubscriptionUpdated(noPlan))).toEqual(['data.plan']);
    const badTenant = updated();
    badTenant.data.tenant_id = '../etc/passwd';
    expect(fields(validateSubscriptionUpdated(badTenant))).toEqual(['data.tenant_id']);
  });

  it('refuses another event type posted to the wrong endpoint', () => {
    const wrong = { ...updated(), event: 'subscription.created' };
    expect(fields(validateSubscriptionUpdated(wrong))).toEqual(['event']);
  });
});

describe('subscription.suspended / resumed / reactivated validation', () => {
  const at = '2025-03-01T10:00:00Z';

  it('accepts the three with a subscription and a tenant id', () => {
    expect(
      validateSubscriptionSuspended({
        event: 'subscription.suspended',
        timestamp: at,
        data: { ...ref, reason: 'non-payment' },
      }).ok,
    ).toBe(true);
    expect(validateSubscriptionResumed({ event: 'subscription.resumed', timestamp: at, data: ref }).ok).toBe(
      true,
    );
    expect(
      validateSubscriptionReactivated({ event: 'subscription.reactivated', timestamp: at, data: ref }).ok,
    ).toBe(true);
  });

  it('refuses a missing tenant id, a bad timestamp and an unsafe subscription id', () => {
    const result = validateSubscriptionSuspended({
      event: 'subscription.suspended',
      timestamp: 'yesterday',
      data: { subscription_id: 'sub abc' },
    });
    expect(fields(result)).toEqual(['data.subscription_id', 'data.tenant_id', 'timestamp']);
    expect(fields(validateSubscriptionResumed(null))).toEqual(['']);
    expect(
      fields(
        validateSubscriptionReactivated({
          event: 'subscription.resumed',
          timestamp: at,
          data: ref,
        }),
      ),
    ).toEqual(['event']);
  });

  it('refuses an over-long suspension reason', () => {
    const result = validateSubscriptionSuspended({
      event: 'subscription.suspended',
      timestamp: at,
      data: { ...ref, reason: 'x'.repeat(201) },
    });
    expect(fields(result)).toEqual(['data.reason']);
  });
});

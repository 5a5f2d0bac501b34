import { buildMessage, domainFor, generateTenantId, type TenantProfile } from '@app/contracts';
import { commandViolations } from './resource-service';

const tenantId = generateTenantId('Spec Co', 'a1b2c3');
const tenant: TenantProfile = {
  tenantId,
  companyName: 'Spec Co',
  adminEmail: 'admin@example.com',
  billingEmail: 'billing@example.com',
  tier: 'standard',
  region: 'eu-west',
  domain: domainFor(tenantId),
  subscriptionId: 'sub_1',
  plan: { price: 1, currency: 'EUR', billingPeriod: 'monthly' },
  createdAt: '2025-06-01T00:00:00.000Z',
};

function commandWith(params: unknown) {
  return buildMessage(
    'ProvisionNamespace',
    { step: 'namespace', tenant, params: params as Record<string, never> },
    { tenantId, correlationId: 'c', actor: 'test' },
    'cmd-1',
    new Date('2025-06-01T00:00:00.000Z'),
  );
}

describe('commandViolations', () => {
  it('accepts a well-formed command', () => {
    expect(commandViolations(commandWith({}))).toEqual([]);
  });

  it.each([
    ['null', null],
    ['missing', undefined],
    ['a string', 'x'],
  ])('refuses params that are %s, so the command is parked at once rather than retried', (_, params) => {
    expect(commandViolations(commandWith(params))).toEqual(['data.params must be an object']);
  });
});

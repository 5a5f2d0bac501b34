import { REGIONS, TIERS } from '@app/contracts';

/** OpenAPI shapes of the billing payloads (spec 1.1 and "Annulation Abonnement"); the rules live in contracts. */
export const SUBSCRIPTION_CREATED_SCHEMA = {
  type: 'object',
  required: ['event', 'timestamp', 'data'],
  properties: {
    event: { type: 'string', enum: ['subscription.created'] },
    timestamp: { type: 'string', format: 'date-time', example: '2025-01-15T10:00:00Z' },
    data: {
      type: 'object',
      required: ['subscription_id', 'customer', 'plan', 'metadata'],
      properties: {
        subscription_id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', example: 'sub_abc123' },
        customer: {
          type: 'object',
          required: ['name', 'email'],
          properties: {
            name: { type: 'string', pattern: '^[A-Za-z0-9 ]{3,100}$', example: 'ABC Corporation' },
            email: { type: 'string', format: 'email', example: 'admin@abc-corp.com' },
            billing_email: { type: 'string', format: 'email', example: 'billing@abc-corp.com' },
          },
        },
        plan: {
          type: 'object',
          required: ['tier', 'price', 'currency', 'billing_period'],
          properties: {
            tier: { type: 'string', enum: [...TIERS] },
            price: { type: 'number', example: 124.99 },
            currency: { type: 'string', example: 'EUR' },
            billing_period: { type: 'string', enum: ['monthly', 'annual'] },
          },
        },
        metadata: {
          type: 'object',
          required: ['region'],
          properties: {
            company_size: { type: 'string', example: '50-200' },
            industry: { type: 'string', example: 'retail' },
            region: { type: 'string', enum: [...REGIONS] },
          },
        },
      },
    },
  },
};

export const SUBSCRIPTION_CANCELLED_SCHEMA = {
  type: 'object',
  required: ['event', 'timestamp', 'data'],
  properties: {
    event: { type: 'string', enum: ['subscription.cancelled'] },
    timestamp: { type: 'string', format: 'date-time', example: '2025-06-15T10:00:00Z' },
    data: {
      type: 'object',
      required: ['subscription_id', 'tenant_id'],
      properties: {
        subscription_id: { type: 'string', example: 'sub_abc123' },
        tenant_id: { type: 'string', example: 'abc-corporation-7f3a9c' },
        cancellation_reason: { type: 'string', example: 'downgrade' },
        effective_date: { type: 'string', format: 'date-time', example: '2025-07-15T00:00:00Z' },
      },
    },
  },
};

export const ACCEPTED_SCHEMA = {
  type: 'object',
  properties: {
    tenant_id: { type: 'string', example: 'abc-corporation-7f3a9c' },
    domain: { type: 'string', example: 'abc-corporation.collectverything.com' },
    status: { type: 'string', enum: ['provisioning', 'reactivating'] },
    status_url: { type: 'string', example: '/api/v1/tenants/abc-corporation-7f3a9c' },
  },
};

export const CANCELLATION_ACCEPTED_SCHEMA = {
  type: 'object',
  properties: {
    tenant_id: { type: 'string' },
    status: { type: 'string', enum: ['deprovisioning', 'cancelling', 'cancelled'] },
    deletion_date: {
      type: 'string',
      format: 'date-time',
      description: 'effective_date, but never before the end of the grace period (GRACE_PERIOD_DAYS)',
    },
    requested_effective_date: {
      type: 'string',
      description: 'effective_date exactly as sent (absent when none was sent)',
    },
    clamped_reason: {
      type: 'string',
      description:
        'Present when deletion_date is later than effective_date: why. Deleting earlier takes an operator purge request',
    },
    status_url: { type: 'string' },
  },
};

export const VALIDATION_FAILED_SCHEMA = {
  type: 'object',
  properties: {
    statusCode: { type: 'number', example: 400 },
    error: { type: 'string', example: 'VALIDATION_FAILED' },
    message: { type: 'string', example: 'invalid subscription.created' },
    violations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          field: { type: 'string', example: 'data.customer.name' },
          rules: { type: 'array', items: { type: 'string' } },
          messages: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};

const subscriptionRef = {
  subscription_id: { type: 'string', example: 'sub_abc123' },
  tenant_id: { type: 'string', example: 'abc-corporation-7f3a9c' },
};

function followUp(event: string, extra: Record<string, unknown> = {}, required: string[] = []) {
  return {
    type: 'object',
    required: ['event', 'timestamp', 'data'],
    properties: {
      event: { type: 'string', enum: [event] },
      timestamp: { type: 'string', format: 'date-time', example: '2025-03-01T10:00:00Z' },
      data: {
        type: 'object',
        required: ['subscription_id', 'tenant_id', ...required],
        properties: { ...subscriptionRef, ...extra },
      },
    },
  };
}

export const SUBSCRIPTION_UPDATED_SCHEMA = followUp(
  'subscription.updated',
  {
    plan: {
      type: 'object',
      required: ['tier'],
      properties: {
        tier: { type: 'string', enum: [...TIERS] },
        price: { type: 'number' },
        currency: { type: 'string' },
        billing_period: { type: 'string', enum: ['monthly', 'annual'] },
      },
    },
  },
  ['plan'],
);
export const SUBSCRIPTION_SUSPENDED_SCHEMA = followUp('subscription.suspended', {
  reason: { type: 'string', example: 'non-payment' },
});
export const SUBSCRIPTION_RESUMED_SCHEMA = followUp('subscription.resumed');
export const SUBSCRIPTION_REACTIVATED_SCHEMA = followUp('subscription.reactivated');

export const TIER_CHANGE_ACCEPTED_SCHEMA = {
  type: 'object',
  properties: {
    tenant_id: { type: 'string' },
    from_tier: { type: 'string', enum: [...TIERS] },
    to_tier: { type: 'string', enum: [...TIERS] },
    status: { type: 'string', enum: ['changing', 'unchanged'] },
    status_url: { type: 'string' },
  },
};

export const SUSPENSION_ACCEPTED_SCHEMA = {
  type: 'object',
  properties: {
    tenant_id: { type: 'string' },
    status: { type: 'string', enum: ['suspended', 'active'] },
    changed: { type: 'boolean' },
    queued: {
      type: 'boolean',
      description:
        'Present (true) when the request waits behind an earlier suspension or resumption still being applied',
    },
    status_url: { type: 'string' },
  },
};

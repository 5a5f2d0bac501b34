import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CommandBus } from '@nestjs/cqrs';
import type { Logger } from 'pino';
import {
  AcceptSubscriptionCancelled,
  AcceptSubscriptionCreated,
  AcceptSubscriptionReactivated,
  AcceptSubscriptionResumed,
  AcceptSubscriptionSuspended,
  AcceptSubscriptionUpdated,
} from '../intake/intake.commands';
import type { SuspensionAccepted } from '../intake/intake.types';
import { APP_LOGGER } from '../tokens';
import {
  ACCEPTED_SCHEMA,
  CANCELLATION_ACCEPTED_SCHEMA,
  SUBSCRIPTION_CANCELLED_SCHEMA,
  SUBSCRIPTION_CREATED_SCHEMA,
  SUBSCRIPTION_REACTIVATED_SCHEMA,
  SUBSCRIPTION_RESUMED_SCHEMA,
  SUBSCRIPTION_SUSPENDED_SCHEMA,
  SUBSCRIPTION_UPDATED_SCHEMA,
  SUSPENSION_ACCEPTED_SCHEMA,
  TIER_CHANGE_ACCEPTED_SCHEMA,
  VALIDATION_FAILED_SCHEMA,
} from './webhook.openapi';
import { WebhookAuthGuard } from './webhook-auth.guard';

const statusUrl = (tenantId: string) => `/api/v1/tenants/${tenantId}`;

/** Billing's webhooks: each body becomes an intake command on the CommandBus, whose handler validates and decides. */
@ApiTags('billing webhooks')
@ApiBearerAuth()
@ApiHeader({
  name: 'Stripe-Signature',
  required: false,
  description:
    '`t=<unix seconds>,v1=<hex HMAC-SHA256(WEBHOOK_SIGNING_SECRET, `${t}.${rawBody}`)>`; several `v1` ' +
    'are accepted during a secret rotation, any one matching',
})
@ApiHeader({ name: 'X-Signature-Timestamp', required: false, description: 'Unix seconds (signed variant)' })
@ApiHeader({
  name: 'X-Signature',
  required: false,
  description: 'hex HMAC-SHA256(WEBHOOK_SIGNING_SECRET, `${timestamp}.${rawBody}`)',
})
@ApiResponse({
  status: 401,
  description:
    'Missing or wrong credentials, a timestamp outside WEBHOOK_SIGNATURE_TOLERANCE_SECONDS, or the bearer ' +
    'form while it is off (no WEBHOOK_BEARER_SECRET, or WEBHOOK_REQUIRE_SIGNATURE)',
})
@ApiResponse({
  status: 409,
  description:
    'WEBHOOK.REPLAYED: this signed request (timestamp and signature) was already received; a retry must be ' +
    'signed again with a new timestamp. Also the per-route conflicts below',
})
@ApiResponse({
  status: 400,
  description: 'Invalid payload: every violated rule',
  schema: VALIDATION_FAILED_SCHEMA,
})
@ApiResponse({ status: 413, description: 'Body over the size limit' })
@ApiResponse({ status: 415, description: 'Content-Type is not application/json' })
@Controller('api/v1/provisioning/webhooks')
@UseGuards(WebhookAuthGuard)
export class WebhooksController {
  constructor(
    private readonly commands: CommandBus,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  @Post('subscription-created')
  @HttpCode(202)
  @ApiOperation({ summary: 'subscription.created: provision a tenant (idempotent per subscription id)' })
  @ApiBody({ schema: SUBSCRIPTION_CREATED_SCHEMA })
  @ApiResponse({
    status: 202,
    description: 'Accepted; the same body for every delivery',
    schema: ACCEPTED_SCHEMA,
  })
  async subscriptionCreated(@Body() body: unknown) {
    const result = await this.commands.execute(new AcceptSubscriptionCreated(body, 'webhook'));
    this.logger.info(
      { tenantId: result.tenantId, status: result.status, duplicate: result.duplicate },
      'subscription.created accepted',
    );
    return {
      tenant_id: result.tenantId,
      domain: result.domain,
      status: result.status,
      status_url: statusUrl(result.tenantId),
    };
  }

  @Post('subscription-cancelled')
  @HttpCode(202)
  @ApiOperation({ summary: 'subscription.cancelled: start the grace period, then deletion' })
  @ApiBody({ schema: SUBSCRIPTION_CANCELLED_SCHEMA })
  @ApiResponse({ status: 202, description: 'Accepted', schema: CANCELLATION_ACCEPTED_SCHEMA })
  @ApiResponse({ status: 404, description: 'Unknown tenant' })
  @ApiResponse({
    status: 409,
    description: 'Subscription is not the tenant’s, or deletion already under way',
  })
  async subscriptionCancelled(@Body() body: unknown) {
    const result = await this.commands.execute(new AcceptSubscriptionCancelled(body, 'webhook'));
    this.logger.info(
      { tenantId: result.tenantId, duplicate: result.duplicate },
      'subscription.cancelled accepted',
    );
    return {
      tenant_id: result.tenantId,
      status: result.status,
      deletion_date: result.deletionDate,
      ...(result.requestedEffectiveDate === undefined
        ? {}
        : { requested_effective_date: result.requestedEffectiveDate }),
      ...(result.clampedReason === undefined ? {} : { clamped_reason: result.clampedReason }),
      status_url: statusUrl(result.tenantId),
    };
  }

  @Post('subscription-updated')
  @HttpCode(202)
  @ApiOperation({
    summary: 'subscription.updated: new tier → quota and limits recomputed from the tier catalog and applied',
  })
  @ApiBody({ schema: SUBSCRIPTION_UPDATED_SCHEMA })
  @ApiResponse({ status: 202, description: 'Accepted', schema: TIER_CHANGE_ACCEPTED_SCHEMA })
  @ApiResponse({ status: 404, description: 'Unknown tenant' })
  @ApiResponse({
    status: 409,
    description: 'Not the tenant’s subscription, tenant not active, or a tier change still being applied',
  })
  async subscriptionUpdated(@Body() body: unknown) {
    const result = await this.commands.execute(new AcceptSubscriptionUpdated(body, 'webhook'));
    this.logger.info(
      {
        tenantId: result.tenantId,
        toTier: result.toTier,
        status: result.status,
        duplicate: result.duplicate,
      },
      'subscription.updated accepted',
    );
    return {
      tenant_id: result.tenantId,
      from_tier: result.fromTier,
      to_tier: result.toTier,
      status: result.status,
      status_url: statusUrl(result.tenantId),
    };
  }

  @Post('subscription-suspended')
  @HttpCode(202)
  @ApiOperation({ summary: 'subscription.suspended: workloads scaled to zero, ingress disabled, data kept' })
  @ApiBody({ schema: SUBSCRIPTION_SUSPENDED_SCHEMA })
  @ApiResponse({ status: 202, description: 'Accepted', schema: SUSPENSION_ACCEPTED_SCHEMA })
  @ApiResponse({ status: 404, description: 'Unknown tenant' })
  @ApiResponse({
    status: 409,
    description: 'Not the tenant’s subscription, or the tenant cannot be suspended',
  })
  async subscriptionSuspended(@Body() body: unknown) {
    return this.workloadsAnswer(
      await this.commands.execute(new AcceptSubscriptionSuspended(body, 'webhook')),
      'subscription.suspended',
    );
  }

  @Post('subscription-resumed')
  @HttpCode(202)
  @ApiOperation({ summary: 'subscription.resumed: workloads and ingress restored' })
  @ApiBody({ schema: SUBSCRIPTION_RESUMED_SCHEMA })
  @ApiResponse({ status: 202, description: 'Accepted', schema: SUSPENSION_ACCEPTED_SCHEMA })
  @ApiResponse({ status: 404, description: 'Unknown tenant' })
  @ApiResponse({ status: 409, description: 'Not the tenant’s subscription, or the tenant cannot be resumed' })
  async subscriptionResumed(@Body() body: unknown) {
    return this.workloadsAnswer(
      await this.commands.execute(new AcceptSubscriptionResumed(body, 'webhook')),
      'subscription.resumed',
    );
  }

  @Post('subscription-reactivated')
  @HttpCode(202)
  @ApiOperation({
    summary: 'subscription.reactivated: end the grace period, keep every resource and credential',
  })
  @ApiBody({ schema: SUBSCRIPTION_REACTIVATED_SCHEMA })
  @ApiResponse({ status: 202, description: 'Accepted', schema: ACCEPTED_SCHEMA })
  @ApiResponse({ status: 404, description: 'Unknown tenant' })
  @ApiResponse({ status: 409, description: 'Not in its grace period (or already being deleted)' })
  async subscriptionReactivated(@Body() body: unknown) {
    const result = await this.commands.execute(new AcceptSubscriptionReactivated(body, 'webhook'));
    this.logger.info(
      { tenantId: result.tenantId, duplicate: result.duplicate },
      'subscription.reactivated accepted',
    );
    return { tenant_id: result.tenantId, status: result.status, status_url: statusUrl(result.tenantId) };
  }

  private workloadsAnswer(result: SuspensionAccepted, type: string) {
    this.logger.info(
      {
        tenantId: result.tenantId,
        status: result.status,
        changed: result.changed,
        queued: result.queued === true,
        duplicate: result.duplicate,
      },
      `${type} accepted`,
    );
    return {
      tenant_id: result.tenantId,
      status: result.status,
      changed: result.changed,
      // Recorded behind an earlier suspension or resumption: applied once that one is done.
      ...(result.queued ? { queued: true } : {}),
      status_url: statusUrl(result.tenantId),
    };
  }
}

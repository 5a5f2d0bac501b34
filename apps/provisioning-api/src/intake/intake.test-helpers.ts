import type { EventStore } from '@app/event-store';
import { TenancyModule } from '@app/tenancy';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus, CqrsModule } from '@nestjs/cqrs';
import {
  AcceptSubscriptionCancelled,
  AcceptSubscriptionCreated,
  AcceptSubscriptionReactivated,
  AcceptSubscriptionResumed,
  AcceptSubscriptionSuspended,
  AcceptSubscriptionUpdated,
} from './intake.commands';
import { IntakeModule } from './intake.module';
import type { IntakeSource } from './intake.types';

export interface IntakeTestOptions {
  gracePeriodDays: number;
  now?: () => Date;
  randomSuffix?: () => string;
}

@Module({})
class IntakeTestModule {
  static register(store: EventStore, options: IntakeTestOptions): DynamicModule {
    return {
      module: IntakeTestModule,
      imports: [
        CqrsModule.forRoot(),
        TenancyModule.register({
          eventStore: store,
          gracePeriodDays: options.gracePeriodDays,
          ...(options.now ? { clock: options.now } : {}),
        }),
        IntakeModule.register({ randomSuffix: options.randomSuffix }),
      ],
    };
  }
}

const contexts: { close(): Promise<void> }[] = [];

/**
 * Billing intake as the app wires it (command bus, intake handlers, tenancy ports) on a given store, with one
 * method per billing event that sends its command through the bus, as the webhooks and the bus consumer do.
 */
export async function startIntake(store: EventStore, options: IntakeTestOptions) {
  const context = await NestFactory.createApplicationContext(IntakeTestModule.register(store, options), {
    logger: false,
    abortOnError: false,
  });
  contexts.push(context);
  const commandBus = context.get(CommandBus);
  return {
    commandBus,
    acceptSubscriptionCreated: (payload: unknown, source: IntakeSource) =>
      commandBus.execute(new AcceptSubscriptionCreated(payload, source)),
    acceptSubscriptionCancelled: (payload: unknown, source: IntakeSource) =>
      commandBus.execute(new AcceptSubscriptionCancelled(payload, source)),
    acceptSubscriptionUpdated: (payload: unknown, source: IntakeSource) =>
      commandBus.execute(new AcceptSubscriptionUpdated(payload, source)),
    acceptSubscriptionSuspended: (payload: unknown, source: IntakeSource) =>
      commandBus.execute(new AcceptSubscriptionSuspended(payload, source)),
    acceptSubscriptionResumed: (payload: unknown, source: IntakeSource) =>
      commandBus.execute(new AcceptSubscriptionResumed(payload, source)),
    acceptSubscriptionReactivated: (payload: unknown, source: IntakeSource) =>
      commandBus.execute(new AcceptSubscriptionReactivated(payload, source)),
  };
}

export type Intake = Awaited<ReturnType<typeof startIntake>>;

/** Closes every context `startIntake` opened (an `afterEach` of the suites that use it). */
export async function closeIntakes(): Promise<void> {
  for (const context of contexts.splice(0)) await context.close();
}

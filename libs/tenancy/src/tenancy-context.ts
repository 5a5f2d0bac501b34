import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus, CqrsModule, QueryBus } from '@nestjs/cqrs';
import { TenancyModule, type TenancyDependencies } from './tenancy.module';

@Module({})
class TenancyContextModule {
  static register(deps: TenancyDependencies): DynamicModule {
    return { module: TenancyContextModule, imports: [CqrsModule.forRoot(), TenancyModule.register(deps)] };
  }
}

export interface TenancyContext {
  commandBus: CommandBus;
  queryBus: QueryBus;
  /** Closes the context; the store and read model stay open (they are the caller's). */
  close(): Promise<void>;
}

/**
 * The tenancy use cases on their own, without HTTP: a Nest application context whose command and query buses
 * reach the same handlers as the API's (tenantctl; tests of the handlers).
 */
export async function createTenancyContext(deps: TenancyDependencies): Promise<TenancyContext> {
  const context = await NestFactory.createApplicationContext(TenancyContextModule.register(deps), {
    logger: false,
    // A failing provider is an error for the caller to report, not a reason to abort the process.
    abortOnError: false,
  });
  return {
    commandBus: context.get(CommandBus),
    queryBus: context.get(QueryBus),
    close: () => context.close(),
  };
}

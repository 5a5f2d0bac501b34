import { EVENT_STORE, type EventStore } from '@app/event-store';
import { CLOCK, TENANCY_OPTIONS, type Clock, type TenancyOptions } from '@app/tenancy';
import { Inject, Injectable, Module } from '@nestjs/common';
import {
  Command,
  CommandHandler,
  Query,
  QueryHandler,
  type ICommandHandler,
  type IQueryHandler,
} from '@nestjs/cqrs';
import type { RolloutActionRequest, StartRolloutRequest } from './rollout-request';
import type { RolloutView } from './rollout-views';
import { Rollouts, type RolloutAccepted } from './rollouts';

/** Start a staged rollout of an image tag over the selected active tenants. */
export class StartRollout extends Command<RolloutAccepted> {
  constructor(readonly request: StartRolloutRequest) {
    super();
  }
}

/** An operator's pause, resume or abort of a rollout. */
export class DecideRollout extends Command<RolloutAccepted> {
  constructor(readonly request: RolloutActionRequest) {
    super();
  }
}

export class ListRollouts extends Query<RolloutView[]> {}

export class GetRollout extends Query<RolloutView> {
  constructor(readonly rolloutId: unknown) {
    super();
  }
}

/** The use cases on the tenancy module's ports (the event store, the clock, the id source). */
@Injectable()
export class RolloutUseCases extends Rollouts {
  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(CLOCK) clock: Clock,
    @Inject(TENANCY_OPTIONS) options: TenancyOptions,
  ) {
    super(store, clock, options.newId);
  }
}

@CommandHandler(StartRollout)
export class StartRolloutHandler implements ICommandHandler<StartRollout> {
  constructor(private readonly rollouts: RolloutUseCases) {}
  execute({ request }: StartRollout): Promise<RolloutAccepted> {
    return this.rollouts.start(request);
  }
}

@CommandHandler(DecideRollout)
export class DecideRolloutHandler implements ICommandHandler<DecideRollout> {
  constructor(private readonly rollouts: RolloutUseCases) {}
  execute({ request }: DecideRollout): Promise<RolloutAccepted> {
    return this.rollouts.decide(request);
  }
}

@QueryHandler(ListRollouts)
export class ListRolloutsHandler implements IQueryHandler<ListRollouts> {
  constructor(private readonly rollouts: RolloutUseCases) {}
  execute(): Promise<RolloutView[]> {
    return this.rollouts.list();
  }
}

@QueryHandler(GetRollout)
export class GetRolloutHandler implements IQueryHandler<GetRollout> {
  constructor(private readonly rollouts: RolloutUseCases) {}
  execute({ rolloutId }: GetRollout): Promise<RolloutView> {
    return this.rollouts.get(rolloutId);
  }
}

/**
 * The rollouts' handlers, for an app that imports `CqrsModule.forRoot()` and the (global) `TenancyModule`
 * whose ports they run on.
 */
@Module({
  providers: [
    RolloutUseCases,
    StartRolloutHandler,
    DecideRolloutHandler,
    ListRolloutsHandler,
    GetRolloutHandler,
  ],
})
export class RolloutsModule {}

import type { CommandMessage } from '@app/contracts';
import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import pino from 'pino';
import type { CommandContext } from '../handlers';
import { commandHandlersOf } from './command-handlers';
import { CommandTransport, commandTypeOf } from './command-transport';

@Controller()
class Provision {
  constructor(private readonly vhost: string) {}

  @MessagePattern('ProvisionBroker')
  provision(_command: CommandMessage, context: CommandContext) {
    return Promise.resolve({ vhost: this.vhost, attempt: context.attempt });
  }
}

@Controller()
class Foreign {
  @MessagePattern('ProvisionDatabases')
  provision() {
    return Promise.resolve({});
  }
}

@Controller()
class Misnamed {
  @MessagePattern('broker.provision')
  provision() {
    return Promise.resolve({});
  }
}

const context = { commandId: 'c', correlationId: 'k', attempt: 2, logger: pino({ level: 'silent' }) };

describe('commandHandlersOf', () => {
  it('finds @MessagePattern methods the way Nest does, bound to their instance', async () => {
    const handlers = commandHandlersOf('broker', [new Provision('shop-a')]);
    expect(Object.keys(handlers)).toEqual(['ProvisionBroker']);
    await expect(
      handlers.ProvisionBroker?.({} as CommandMessage<'ProvisionBroker'>, context),
    ).resolves.toEqual({
      vhost: 'shop-a',
      attempt: 2,
    });
  });

  it("refuses a pattern of another service's command, an unknown command and two handlers for one", () => {
    expect(() => commandHandlersOf('broker', [new Foreign()])).toThrow(
      "@MessagePattern('ProvisionDatabases') belongs to the database service, not broker",
    );
    expect(() => commandHandlersOf('broker', [new Misnamed()])).toThrow(
      "@MessagePattern('broker.provision') is not a command type of COMMAND_CATALOG",
    );
    expect(() => commandHandlersOf('broker', [new Provision('a'), new Provision('b')])).toThrow(
      'two handlers for ProvisionBroker',
    );
  });
});

describe('CommandTransport', () => {
  const transport = () =>
    new CommandTransport({
      service: 'broker',
      eventStore: {} as never,
      consumer: {} as never,
      logger: pino({ level: 'silent' }),
      prefetch: 1,
      faults: [],
    });

  it('serves registered message handlers by command type and refuses event handlers', async () => {
    const served = transport();
    served.addHandler('ProvisionBroker', (data: unknown) => Promise.resolve({ echoed: data }));
    const handlers = served.commandHandlers();
    await expect(handlers.ProvisionBroker?.('cmd' as never, context)).resolves.toEqual({ echoed: 'cmd' });

    const withEvent = transport();
    withEvent.addHandler('ProvisionBroker', () => Promise.resolve(undefined), true);
    expect(() => withEvent.commandHandlers()).toThrow('resource services handle commands only');
  });

  it('names the command type of a pattern', () => {
    expect(commandTypeOf('VerifyBroker', 'broker')).toBe('VerifyBroker');
    expect(() => commandTypeOf('VerifyBroker', 'storage')).toThrow('belongs to the broker service');
  });
});

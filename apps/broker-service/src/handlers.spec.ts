import { InMemorySecretStore, SecretStoreError } from '@app/secrets';
import { runner, testTenant } from '@app/testing';
import { createHandlers, type BrokerManagement } from './commands';

describe('broker-service handlers: secret-store failures', () => {
  function handlersWith(failure: Error) {
    const secrets = new InMemorySecretStore();
    secrets.delete = () => Promise.reject(failure);
    // RemoveBroker only deletes: both already gone.
    const management = {
      deleteVhost: () => Promise.resolve(false),
      deleteUser: () => Promise.resolve(false),
    } as unknown as BrokerManagement;
    return createHandlers({
      management,
      adminUser: 'guest',
      secrets,
      probe: () => Promise.reject(new Error('not called')),
      amqpUrl: 'amqp://127.0.0.1:5672',
      secretHost: 'rabbitmq.local',
      secretPort: 5672,
      foreignVhost: '/',
    });
  }

  function remove(failure: Error) {
    return runner(handlersWith(failure))('RemoveBroker', testTenant(), {});
  }

  it.each(['SECRETS.DECRYPTION_FAILED', 'SECRETS.INVALID_PATH', 'SECRETS.PATH_MISMATCH'])(
    'fails permanently on %s',
    async (code) => {
      await expect(remove(new SecretStoreError(code, 'refused'))).rejects.toMatchObject({
        code,
        retryable: false,
      });
    },
  );

  it('retries when the store is unreachable, naming the path only', async () => {
    await expect(remove(new Error('connect ECONNREFUSED'))).rejects.toMatchObject({
      code: 'BROKER.SECRET_STORE_UNAVAILABLE',
      retryable: true,
      message: expect.stringMatching(
        /^delete \/e-commerce\/tenants\/.+\/rabbitmq: secret store unavailable$/,
      ),
    });
  });
});

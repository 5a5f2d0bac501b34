import { messagingBrokerHealth } from './broker-health';

describe('messagingBrokerHealth', () => {
  it('is healthy only while both the connection and the consumer are', async () => {
    const connection = { healthy: true, isHealthy: () => connection.healthy };
    const consumer = { healthy: true, isHealthy: () => consumer.healthy };
    const health = messagingBrokerHealth(connection, consumer);
    expect(await health.isHealthy()).toBe(true);
    consumer.healthy = false;
    expect(await health.isHealthy()).toBe(false);
    consumer.healthy = true;
    connection.healthy = false;
    expect(await health.isHealthy()).toBe(false);
  });
});

/** Port for the broker check of /ready; the lead wires the messaging connection behind it. */
export interface BrokerHealth {
  /** Resolves true when the broker connection is usable; false or a rejection count as a failure. */
  isHealthy(): Promise<boolean>;
}

/**
 * The broker check of the running API: the connection and the billing-bus consumer on it, whose channel can
 * close (and stay closed) while the connection is up.
 */
export function messagingBrokerHealth(
  connection: { isHealthy(): boolean },
  consumer: { isHealthy(): boolean },
): BrokerHealth {
  return { isHealthy: async () => connection.isHealthy() && consumer.isHealthy() };
}

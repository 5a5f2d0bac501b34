/** Port for the broker check of /ready; the lead wires the messaging connection behind it. */
export interface BrokerHealth {
  /** Resolves true when the broker connection is usable; false or a rejection count as a failure. */
  isHealthy(): Promise<boolean>;
}

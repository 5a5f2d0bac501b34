export { percentile, percentiles, type Percentiles } from './percentile';
export { parseInstant, parseSloQuery, SLO_DEFAULT_PERIOD_DAYS, type SloQuery } from './slo-period';
export { SLO_PHASES, SLO_STEPS, SLO_TARGETS, type SloPhase } from './slo-targets';
export type { SloEvent } from './slo-tracker';
export * from './slo-report';
export * from './slo.queries';
export * from './get-slo-report.handler';
export { provisionedTenant } from './slo.test-helpers';

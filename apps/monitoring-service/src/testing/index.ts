/** Test doubles of monitoring-service for the system tests and benches (see ../index.ts). */
export { GrafanaStandIn } from './grafana-stand-in';

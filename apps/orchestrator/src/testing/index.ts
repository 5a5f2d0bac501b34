/** Test doubles of orchestrator for the system tests and benches (see ../index.ts). */
export { PROFILE, T0, TEST_CONFIG, TenantSim } from '../domain/testing';

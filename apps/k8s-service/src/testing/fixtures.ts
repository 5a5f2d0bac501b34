/** The builders' example tenant, and the same under a unique id for tests that create resources. */
export { abcCorporation, suffixedTenant as testTenant } from '@app/plans';

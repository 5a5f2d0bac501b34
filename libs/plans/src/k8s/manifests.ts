/**
 * Builders for every Kubernetes object of spec phases 2, 3.2, 3.3, 4.3, 5.3, 6 and 7, with the spec's names,
 * labels, annotations and values, parameterised by the tenant profile and its tier. Pure: no I/O, no clock.
 * One module per part of the tenant; the NetworkPolicies (2.3) are network-policy.ts's.
 */
export * from './tenant-objects';
export * from './namespace';
export * from './credentials';
export * from './workloads';
export * from './ingress';
export * from './argocd-application';

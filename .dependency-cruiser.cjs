/** Boundaries of the monorepo (CONVENTIONS.md 1), checked on every `npm test`. */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'apps-not-importing-apps',
      comment: 'An app never imports another app: shared code goes to libs/.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'libs-not-importing-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'contracts-are-pure',
      comment: 'libs/contracts imports nothing else from the project and does no I/O.',
      severity: 'error',
      from: { path: '^libs/contracts/' },
      to: {
        pathNot: '^libs/contracts/|^node_modules/(class-validator|class-transformer|uuid)/',
        dependencyTypesNot: ['type-only', 'core'],
        path: '.',
      },
    },
    {
      name: 'contracts-no-io-builtins',
      severity: 'error',
      from: { path: '^libs/contracts/' },
      to: { dependencyTypes: ['core'], pathNot: '^(node:)?crypto$' },
    },
    {
      name: 'lifecycle-is-pure',
      comment: 'libs/lifecycle (tenant state, evolve, deciders) imports only libs/contracts and does no I/O.',
      severity: 'error',
      from: { path: '^libs/lifecycle/' },
      to: { pathNot: '^libs/(lifecycle|contracts)/', dependencyTypesNot: ['type-only'], path: '.' },
    },
    {
      name: 'event-store-clients-only-in-event-store',
      comment: 'Events reach EventStoreDB only through libs/event-store (issue 3).',
      severity: 'error',
      from: { pathNot: '^libs/event-store/' },
      to: { path: 'node_modules/@eventstore/' },
    },
    {
      name: 'amqp-only-in-messaging',
      comment: 'Nothing talks AMQP except through libs/messaging (issue 4).',
      severity: 'error',
      // The broker-permission int spec opens raw channels as each app to show what the broker refuses.
      from: {
        pathNot: '^libs/messaging/|^bench/|^libs/rabbitmq-admin/src/broker-permissions\\.int-spec\\.ts$',
      },
      to: { path: 'node_modules/(amqplib|amqp-connection-manager)/' },
    },
    {
      name: 'rabbitmq-admin-only-in-broker-service-and-tools',
      comment:
        'The management API client administers the broker: only broker-service, scripts, tests and benches use it.',
      severity: 'error',
      from: {
        pathNot:
          '^libs/rabbitmq-admin/|^apps/broker-service/|^scripts/|^bench/|^test/|^libs/testing/|\\.(spec|int-spec|e2e-spec|test-helpers)\\.ts$',
      },
      to: { path: '^libs/rabbitmq-admin/' },
    },
    {
      name: 'testing-lib-only-in-tests',
      comment: 'libs/testing builds fake tenants and commands: tests may use it, production code never.',
      severity: 'error',
      from: { pathNot: '\\.(spec|int-spec|e2e-spec|test-helpers)\\.ts$|^libs/testing/|^test/' },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'lib-imports-through-index',
      comment: 'Libraries are imported only through their public index (@app/<lib>).',
      severity: 'error',
      from: { path: '^(apps|libs|test|bench)/', pathNot: '^libs/([^/]+)/' },
      to: { path: '^libs/[^/]+/src/.+', pathNot: '^libs/[^/]+/src/index\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '^(dist|node_modules)/' },
  },
};

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
      // Specs may use test libraries (fast-check).
      from: { path: '^libs/contracts/', pathNot: '\\.spec\\.ts$' },
      to: {
        pathNot: '^libs/contracts/|^node_modules/(class-validator|class-transformer|reflect-metadata|uuid)/',
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
      name: 'domain-imports-no-adapters',
      comment:
        'Domain code (apps/*/src/domain, libs/lifecycle, libs/contracts, libs/plans) decides; it does no I/O: no adapter, no ' +
        'driver or client package, no I/O-capable Node module, no I/O library (type-only imports of their types ' +
        'are fine). Specs beside the domain may read fixtures.',
      severity: 'error',
      from: {
        path: '^(apps/[^/]+/src/domain|libs/lifecycle|libs/contracts|libs/plans)/',
        // The SQL builders (libs/plans/src/database/sql.ts) take mysql2's pure literal escaping (no connection).
        pathNot: '\\.(spec|int-spec|test-helpers)\\.ts$|^libs/plans/src/database/sql\\.ts$',
      },
      to: {
        dependencyTypesNot: ['type-only'],
        path: [
          '^apps/[^/]+/src/(adapters|runtime)/',
          '^apps/[^/]+/src/(wiring|handlers|main)\\.ts$',
          '^libs/(event-store|messaging|rabbitmq-admin|archive|audit)/',
          '^node_modules/(pg|mysql2|amqplib|amqp-connection-manager|minio|simple-git|nodemailer|@kubernetes/client-node|@eventstore|@aws-sdk|undici|pino)/',
          // Node's modules that reach the outside world (crypto, util, path... stay allowed).
          '^(node:)?(fs|fs/promises|net|http|https|http2|child_process|dgram|dns|dns/promises|tls|cluster|worker_threads|readline|os|process|inspector|vm)$',
        ],
      },
    },
    {
      name: 'no-orphans',
      comment:
        'A module nothing imports and that imports nothing is dead. Exceptions: jest setup files (named by ' +
        'jest.config.js) and type declarations.',
      severity: 'error',
      from: { orphan: true, pathNot: '^test/setup/[^/]+\\.setup\\.ts$|\\.d\\.ts$' },
      to: {},
    },
    {
      name: 'no-unreachable-production-code',
      comment:
        'Every production module of apps/ and libs/ is reachable from an entry point: an app main.ts (the ' +
        'tenantctl CLI is apps/tenantctl), the console browser app.ts (loaded by the page). Exceptions: specs, test helpers and test doubles ' +
        "(testing/), and the apps' public surfaces for tests and benches (src/index.ts).",
      severity: 'error',
      from: {
        path: '^apps/[^/]+/src/main\\.ts$|^apps/provisioning-api/src/console/browser/app\\.ts$',
      },
      to: {
        path: '^(apps|libs)/',
        pathNot: [
          '\\.(spec|int-spec|e2e-spec|test-helpers)\\.ts$',
          '/testing(/|\\.ts$)',
          '\\.d\\.ts$',
          '^apps/[^/]+/src/main\\.ts$',
          '^apps/[^/]+/src/index\\.ts$',
          '^apps/provisioning-api/src/console/browser/app\\.ts$',
        ],
        reachable: false,
      },
    },
    {
      name: 'test-and-bench-use-app-entry-points',
      comment:
        'test/ and bench/ import an app only through its public surface: apps/<app>/src/index.ts, its ' +
        'config.ts (the environment schema the deploy checks read) or testing/index.ts (its test doubles).',
      severity: 'error',
      from: { path: '^(test|bench)/' },
      to: {
        path: '^apps/',
        pathNot: '^apps/[^/]+/src/(index|config|testing/index)\\.ts$',
      },
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
    // node_modules is not followed but stays visible, so the rules on driver packages see their importers.
    exclude: { path: '^dist/' },
  },
};

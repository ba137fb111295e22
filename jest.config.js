// Jest runs the ESM sources through SWC (fast, no type-check: `npm run typecheck` does that).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
  },
];

const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': swc },
};

/**
 * Two projects: `unit` (specs beside the code, no build needed: `npm run test:unit`) and `e2e`
 * (test/, against the production build: `npm test` builds first and runs both).
 */
/** @type {import('jest').Config} */
export default {
  testTimeout: 30_000,
  // Most of an e2e spec's time is spent waiting (upstream latency, timeouts, child processes),
  // so more workers than cores (jest's default on 2 cores is one) shorten the run.
  maxWorkers: 4,
  // A worker that has loaded the app for several files holds on to their modules: recycle it.
  workerIdleMemoryLimit: '1GB',
  testSequencer: '<rootDir>/test/support/sequencer.js',
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/src'], testMatch: ['**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'e2e',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      // Tests import the app's code from ../src for its types; they run the build in dist/,
      // which carries what the Swagger CLI plugin adds (the /docs-json under test).
      moduleNameMapper: { '^(?:\\.\\./)+src/(.*)$': '<rootDir>/dist/$1', ...shared.moduleNameMapper },
    },
  ],
};

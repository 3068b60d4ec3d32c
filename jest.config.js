/**
 * NestJS 12, oauth4webapi and jose ship ESM only, and jest's module loader cannot require() ESM, so
 * the suites run as ESM (`--experimental-vm-modules`, set by the npm scripts). Two projects:
 * `unit` runs specs beside the code (integration specs among them use the real Postgres and
 * Redis); `e2e` drives built broker processes over HTTP against the provider sandbox.
 */
const shared = {
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json', useESM: true }],
  },
  moduleNameMapper: {
    '^@broker/crypto(|/.*)$': '<rootDir>/libs/crypto/src$1',
    '^@broker/providers(|/.*)$': '<rootDir>/libs/providers/src$1',
    '^@broker/token-api(|/.*)$': '<rootDir>/libs/token-api/src$1',
  },
  rootDir: __dirname,
};

module.exports = {
  // e2e tests start real processes and wait on real timers; unit specs finish far below this.
  testTimeout: 60_000,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};

if (
  !`${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`.includes('--experimental-vm-modules')
) {
  throw new Error(
    'The test suites run as ESM: use `npm test`, or set NODE_OPTIONS=--experimental-vm-modules ' +
      '(e.g. `NODE_OPTIONS=--experimental-vm-modules npx jest libs/crypto`). In-process specs must not ' +
      "use fastify's app.inject() (light-my-request requires an ESM-only package): use real HTTP on port 0.",
  );
}

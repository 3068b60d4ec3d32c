/**
 * Two projects: `unit` runs specs beside the code (and integration specs that use the real
 * Postgres and Redis); `e2e` drives built broker processes over HTTP against the sandbox.
 * oauth4webapi and jose ship ESM only, so ts-jest turns them into CommonJS for jest's registry.
 */
const shared = {
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.(t|j)s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(oauth4webapi|jose)/)'],
  moduleNameMapper: {
    '^@broker/crypto(|/.*)$': '<rootDir>/libs/crypto/src$1',
    '^@broker/providers(|/.*)$': '<rootDir>/libs/providers/src$1',
  },
  rootDir: __dirname,
};

module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};

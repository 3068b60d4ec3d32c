import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The broker's feature rooms, which common/ must not import. */
const FEATURE_ROOMS = [
  'audit',
  'clients',
  'connections',
  'events',
  'health',
  'integrations',
  'keys',
  'openapi',
  'scheduler',
  'tokens',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        performance: 'readonly',
        Response: 'readonly',
        Headers: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  // The shape of the house (README "Architecture"): arrows point down. Each glob gets its own
  // no-restricted-imports entry; ESLint keeps only the last one that matches a file, so the
  // globs do not overlap.
  {
    files: ['apps/broker/src/tokens/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/scheduler/*', '**/scheduler', '**/events/*', '**/events'],
              message:
                'tokens/ announces (TokenEvents); the scheduler and the webhooks listen. It imports neither.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/broker/src/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: FEATURE_ROOMS.flatMap((room) => [`**/${room}/*`, `**/${room}`]),
              message: 'common/ uses no feature room: each room registers its own providers.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/agent/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/broker/**', '**/apps/broker/**'],
              message: 'The agent never imports the broker: share code through libs/.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests read arbitrary JSON answers; typing each one would add noise, not safety.
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);

import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'test-output/**',
      '**/*.js',
      '**/*.cjs',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    // Type-aware linting: each file is checked with the program of its nearest tsconfig.json (the root one, or
    // the console's browser tsconfig), so the promise rules below see the types.
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise is awaited, returned, or explicitly fired and forgotten with `void` (its rejection handled).
      '@typescript-eslint/no-floating-promises': 'error',
      // No promise where a boolean or a void callback is expected (an `if (promise)`, an async event listener).
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Source files stay readable in one sitting (issue 20): a file past 400 lines is split by concern.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.test-helpers.ts', '**/testing/**'],
    rules: { 'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }] },
  },
  {
    files: ['scripts/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // The console's browser modules (compiled by their own tsconfig, served as ES modules): browser globals,
    // no Node's; data is rendered as text only, and relative imports name the served `.js` file.
    files: ['apps/provisioning-api/src/console/browser/**/*.ts'],
    languageOptions: { globals: globals.browser },
    rules: {
      'no-restricted-properties': [
        'error',
        ...['innerHTML', 'outerHTML', 'insertAdjacentHTML'].map((property) => ({
          property,
          message: 'Render data with textContent.',
        })),
        { object: 'document', property: 'write', message: 'Render data with textContent.' },
      ],
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportDeclaration[source.value=/^\\./]:not([source.value=/\\.js$/])',
          message: 'The browser loads modules by URL: import the compiled file, as ./dom.js.',
        },
      ],
    },
  },
);

import tseslint from 'typescript-eslint';
import layers from './tools/eslint/import-layers.js';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'release/', 'test-output/', '**/*.generated.*'] },
  ...tseslint.configs.recommended,
  {
    plugins: { telltale: layers },
    rules: {
      'telltale/import-layers': ['error', { root: import.meta.dirname }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['main/**', 'preload/**'],
    ignores: ['main/ipc-main.ts', 'preload/preload.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='ipcMain']", message: 'Use the typed wrappers in main/ipc-main.ts.' },
        { selector: "MemberExpression[object.name='ipcRenderer']", message: 'Use the bridge in preload/preload.ts.' },
      ],
    },
  },
);

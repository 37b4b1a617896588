// ESLint (flat config) for MoE Lens: `npm run lint`, run by `npm test` before the suites.
// Rules: ESLint's and typescript-eslint's recommended sets (syntax-only: no type information, so the whole repo lints
// in seconds), a few that catch real mistakes, and the import boundaries between the parts (docs/ARCHITECTURE.md,
// "Boundaries"): what a part may import is decided here, not by convention.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Imports a part must not make: `from` patterns (gitignore style) with the reason shown in the error. */
const forbid = (...groups) => ({ 'no-restricted-imports': ['error', { patterns: groups.map(([group, message]) => ({ group, message })) }] });

const SERVER = [[['**/server/**'], 'the server is a separate process: share code through common/ (pure) or the moeLens/* protocol']];
const EXTENSION = [[['**/extension/**'], 'the extension is the client: share code through common/ or the moeLens/* protocol']];
const WEBVIEW = [[['**/webview/**'], 'the webview is a browser page: share code through common/ or webview messages']];
const VSCODE = [['vscode', 'vscode-languageclient', 'vscode-languageclient/*'], 'only extension/ talks to the editor'];
/** Globals a part must not use: imports are not the only way to reach the DOM or Node. */
const globals = (...names) => ({ 'no-restricted-globals': ['error', ...names.map((name) => ({ name, message: `${name} is not available in every part that imports this one` }))] });
const DOM_GLOBALS = ['document', 'window', 'navigator', 'localStorage'];
const NODE_GLOBALS = ['process', 'Buffer', '__dirname', 'require', 'module'];

/** onnxruntime is used only behind ModelBackend (the session, its providers) and by the REAP profiling pass's workers. */
const ONNX = [['onnxruntime-node', 'onnxruntime-node/*'], 'onnxruntime stays behind ModelBackend: use server/model/backend.ts (docs/ARCHITECTURE.md, Invariants)'];
const ONNX_USERS = ['server/model/modelSession.ts', 'server/model/onnxSession.ts', 'server/model/executionProvider.ts', 'server/prune/profileWorkers.ts'];

const NODE = [['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'url', 'onnxruntime-node', 'vscode-languageserver', 'vscode-languageserver/*'], 'no Node.js (or server library) here'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'media/', 'tools/', '.cache/', 'test-results/', 'bench/out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        // Node and browser globals that the code uses; TypeScript (npm run typecheck) checks every other identifier.
        console: 'readonly', process: 'readonly', Buffer: 'readonly', __dirname: 'readonly', require: 'readonly', module: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly',
        TextEncoder: 'readonly', TextDecoder: 'readonly', document: 'readonly', window: 'readonly', performance: 'readonly',
      },
    },
    rules: {
      // TypeScript reports undefined names with their types; ESLint's version does not know type-only globals.
      'no-undef': 'off',
      // `_name` marks a deliberately unused binding (destructuring to drop a field, a required callback parameter).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': ['error', { destructuring: 'all' }],
      'no-throw-literal': 'error',
      'no-self-compare': 'error',
      'no-template-curly-in-string': 'error',
      'no-unmodified-loop-condition': 'error',
      // ANSI escapes (the CLI heatmap) and control-character classes (token text) are deliberate.
      'no-control-regex': 'off',
    },
  },
  // Boundaries: common/ is pure (types and functions for every part), the server never sees the editor, the
  // extension and the webview never import the server, the webview is a browser page.
  { files: ['common/**/*.ts'], rules: { ...forbid(...SERVER, ...EXTENSION, ...WEBVIEW, VSCODE, NODE), ...globals(...DOM_GLOBALS, ...NODE_GLOBALS) } },
  { files: ['server/**/*.ts'], ignores: ONNX_USERS, rules: { ...forbid(...EXTENSION, ...WEBVIEW, VSCODE, ONNX), ...globals(...DOM_GLOBALS) } },
  { files: ONNX_USERS, rules: { ...forbid(...EXTENSION, ...WEBVIEW, VSCODE), ...globals(...DOM_GLOBALS) } },
  { files: ['extension/**/*.ts'], rules: { ...forbid(...SERVER, ...WEBVIEW, ONNX), ...globals(...DOM_GLOBALS) } },
  { files: ['webview/**/*.ts'], rules: { ...forbid(...SERVER, ...EXTENSION, VSCODE, NODE), ...globals(...NODE_GLOBALS) } },
  // Small files with names that explain themselves: no module over 300 lines in the product's parts.
  { files: ['common/**/*.ts', 'server/**/*.ts', 'extension/**/*.ts', 'webview/**/*.ts'], rules: { 'max-lines': ['error', { max: 300 }] } },
  // Routing arrays are token-major and indexed only through common/routingLayout.ts: no hand-written
  // `[(t * L + l) * K + k]`-style index into experts, weights or routerLogits outside it.
  {
    files: ['common/**/*.ts', 'server/**/*.ts', 'extension/**/*.ts', 'webview/**/*.ts'],
    // the importer's graph builder lays out weights, not routing; modelSession.ts's KV cache rows neither
    ignores: ['common/routingLayout.ts', 'server/import/**', 'server/prune/exportHf.ts'], // weight rows, not routing arrays
    rules: {
      'no-restricted-syntax': ['error', {
        // `(t * L + l) * K`, wherever it is written
        selector: "BinaryExpression[operator='*'][left.type='BinaryExpression'][left.operator='+'][left.left.type='BinaryExpression'][left.left.operator='*']",
        message: 'the routing layout is common/routingLayout.ts (slotIndex, layerIndex, layerMajorIndex): index through it',
      }, {
        // `r.experts[t * L * K + ...]`, `input.entropy[t * L + l]`
        selector: "MemberExpression[computed=true]:matches([object.name=/^(experts|weights|baselineExperts|entropy)$/], [object.property.name=/^(experts|weights|baselineExperts|entropy|routerLogits|expertIds|expertWeights|routerEntropy)$/]) > .property:matches(BinaryExpression[operator='*'], :has(BinaryExpression[operator='*']))",
        message: 'the routing layout is common/routingLayout.ts (slotIndex, layerIndex, layerMajorIndex): index through it',
      }],
    },
  },
  // Tests edit arbitrary JSON (manifests, messages) to break it on purpose.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  // Scripts and tests in plain JavaScript (CommonJS reporters, build scripts).
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);

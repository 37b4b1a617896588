// `npm run test:vscode`: the extension-host suite (test/vscode/*.test.ts) in a real editor.
//  - VS Code desktop when VSCODE_EXECUTABLE is set or `code` is on PATH: test/vscode/runTests.mjs (@vscode/test-electron);
//  - otherwise code-server (installed on demand), through runExtensionTests in scripts/code-server.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { root, runExtensionTests } from './code-server.mjs';

if (spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);
const desktop = process.env.VSCODE_EXECUTABLE || spawnSync('sh', ['-c', 'command -v code'], { stdio: 'ignore' }).status === 0;
if (desktop && existsSync(join(root, 'test', 'vscode', 'runTests.mjs'))) {
  process.exit(spawnSync(process.execPath, [join(root, 'test', 'vscode', 'runTests.mjs')], { cwd: root, stdio: 'inherit' }).status ?? 1);
}
const entry = join(root, 'out', 'test', 'vscode', 'index.js');
if (!existsSync(entry)) {
  console.error('test:vscode: out/test/vscode/index.js was not built (no test/vscode/index.ts?)');
  process.exit(1);
}
console.log('VS Code desktop not found: running the extension-host tests in code-server.');
const { code, lines } = await runExtensionTests({ testsEntry: entry, onLine: (l) => console.log(l) });
if (!lines.length) console.log('(no test output)');
console.log(`extension host exited with ${code}`);
process.exit(code === 0 ? 0 : 1);

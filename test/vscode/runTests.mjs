// `npm run test:vscode`: the extension-host suite in VS Code desktop via @vscode/test-electron, for machines that
// have VS Code (set VSCODE_EXECUTABLE to use an installed one; otherwise test-electron downloads it).
import { runTests } from '@vscode/test-electron';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
try {
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: resolve(root, 'out', 'test', 'vscode', 'index.js'),
    vscodeExecutablePath: process.env.VSCODE_EXECUTABLE || undefined,
    launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  });
} catch (e) {
  console.error(`extension-host tests failed: ${e.message}`);
  process.exit(1);
}

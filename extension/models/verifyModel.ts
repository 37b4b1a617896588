// "MoE Lens: Verify Model…": hashes every byte of a model directory against its moe.json (the CLI's `moe-lens verify
// DIR --json`, in a child process: hashing many GB must not block the extension host). A load checks only the weights'
// size, mtime and sampled chunks, so this is the command for "are these exactly the weights I imported?".
// Scripts and tests pass the directory; otherwise it is the current model (moeLens.modelPath) or a picked folder.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';

export interface VerifyOutcome {
  ok: boolean;
  message: string;
}

/** Runs `cli verify dir --json`; never throws for a bad directory (ok false, with the CLI's message). */
export function runVerify(cli: string, dir: string, signal?: AbortSignal): Promise<VerifyOutcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'verify', dir, '--json'], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const kill = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', kill);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.once('error', (e) => resolve({ ok: false, message: `could not start the verifier: ${e.message}` }));
    child.once('close', (code) => {
      signal?.removeEventListener('abort', kill);
      try {
        const r = JSON.parse(out.trim().split('\n').pop() ?? '') as { ok: boolean; message?: string; files?: { file: string; bytes: number }[] };
        if (r.ok) resolve({ ok: true, message: `every byte matches moe.json (${(r.files ?? []).map((f) => `${f.file}, ${(f.bytes / 1e6).toFixed(1)} MB`).join('; ')})` });
        else resolve({ ok: false, message: r.message ?? 'does not match moe.json' });
      } catch {
        resolve({ ok: false, message: signal?.aborted ? 'cancelled' : (err.trim().split('\n')[0] ?? `the verifier exited with ${code}`) });
      }
    });
  });
}

async function pickDir(ctx: Ctx): Promise<string | undefined> {
  const current = ctx.config.server.modelPath;
  const choose = 'Choose a model folder…';
  const picked = current ? await vscode.window.showQuickPick([current, choose], { title: 'MoE Lens: verify which model?' }) : choose;
  if (picked !== choose) return picked;
  const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Verify', title: 'MoE Lens: a model folder (moe.json)' });
  return uris?.[0]?.fsPath;
}

/** Returns the outcome (undefined when nothing was picked); shows it to the user. */
export async function verifyModel(ctx: Ctx, arg?: unknown): Promise<VerifyOutcome | undefined> {
  const dir = typeof arg === 'string' ? arg : arg instanceof vscode.Uri ? arg.fsPath : await pickDir(ctx);
  if (!dir) return undefined;
  const cli = ctx.extension.asAbsolutePath(join('dist', 'cli.js'));
  const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MoE Lens: verifying ${dir}`, cancellable: true }, (_p, token) => {
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    return runVerify(cli, dir, abort.signal).finally(() => sub.dispose());
  });
  if (outcome.ok) {
    ctx.output.info(`verified ${dir}: ${outcome.message}`);
    void vscode.window.showInformationMessage(`MoE Lens: ${dir}: ${outcome.message}.`);
  } else {
    ctx.output.error(`verification of ${dir} failed: ${outcome.message}`);
    void vscode.window.showErrorMessage(`MoE Lens: ${dir} failed verification: ${outcome.message}`, 'Show Log').then((b) => b && ctx.output.show(true));
  }
  return outcome;
}

// "MoE Lens: Import Hugging Face Model…": a folder picker, the import in a child process (importProcess.ts) with a
// cancellable progress notification in bytes and tensors, the result in the extension's global storage, then an offer
// to use it. Scripts and tests pass { folder, dtype?, quant?, use? } instead of picking (then the weights stay float
// unless quant says otherwise); a picked folder is followed by the choice of precision.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { describeImportProgress, importFraction, type ImportDoneEvent } from '../../common/importEvents';
import type { Ctx } from '../ctx';
import { importIntoStorage } from './importProcess';
import { importedModelName } from './modelName';

export interface ImportModelArgs {
  /** the Hugging Face checkpoint folder (skips the picker) */
  folder?: string;
  dtype?: 'fp32' | 'fp16';
  /** block-wise quantised weights (the importer's --quant) */
  quant?: 'int8' | 'int4';
  /** true: select the result without asking; false: do not offer it */
  use?: boolean;
}

export const modelsDir = (ctx: Ctx) => join(ctx.extension.globalStorageUri.fsPath, 'models');

function parseArgs(arg: unknown): ImportModelArgs {
  if (typeof arg === 'string') return { folder: arg };
  if (arg instanceof vscode.Uri) return { folder: arg.fsPath };
  return typeof arg === 'object' && arg !== null ? (arg as ImportModelArgs) : {};
}

const describe = (r: ImportDoneEvent) =>
  `${r.architecture}, ${r.layers} layers (${r.routerLayers} with ${r.experts} experts, top-${r.topK}), ${r.tensorsRead} tensors, ${(r.bytesRead / 1e6).toFixed(1)} MB`;

/** Returns the imported model's folder, or undefined (nothing picked, cancelled, failed: all shown to the user). */
export async function importModel(ctx: Ctx, arg?: unknown): Promise<string | undefined> {
  const a = parseArgs(arg);
  let folder = a.folder;
  if (!folder) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Import',
      title: 'MoE Lens: a Hugging Face checkpoint folder (config.json, *.safetensors, tokenizer.json)',
    });
    if (!picked?.length) return undefined;
    folder = picked[0].fsPath;
    const precision = await pickPrecision();
    if (!precision) return undefined;
    a.quant = precision === 'fp32' ? undefined : precision;
  }
  const configFile = join(folder, 'config.json');
  const name = importedModelName(existsSync(configFile) ? readFileSync(configFile, 'utf8') : undefined, folder);
  ctx.output.info(`importing ${folder} as "${name}"`);
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `MoE Lens: importing ${name}`, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      let shown = 0;
      try {
        return await importIntoStorage({
          cli: ctx.extension.asAbsolutePath(join('dist', 'cli.js')),
          hfDir: folder,
          modelsDir: modelsDir(ctx),
          name,
          dtype: a.dtype,
          quant: a.quant,
          signal: abort.signal,
          onLog: (line) => ctx.output.info(line),
          onProgress: (p) => {
            const pct = 100 * importFraction(p);
            progress.report({ message: describeImportProgress(p), increment: Math.max(0, pct - shown) });
            shown = Math.max(shown, pct);
          },
        });
      } finally {
        sub.dispose();
      }
    },
  );
  if (outcome.kind === 'cancelled') {
    ctx.output.info(`import of ${folder} cancelled`);
    void vscode.window.showInformationMessage('MoE Lens: import cancelled; nothing was kept.');
    return undefined;
  }
  if (outcome.kind === 'failed') {
    ctx.output.error(`import of ${folder} failed: ${outcome.message}`);
    void vscode.window.showErrorMessage(`MoE Lens: cannot import ${folder}: ${outcome.message}`, 'Show Log').then((b) => b && ctx.output.show(true));
    return undefined;
  }
  const r = outcome.result;
  ctx.output.info(`imported ${name} into ${outcome.dir}: ${describe(r)}`);
  const unusedTotal = r.unusedTotal ?? r.unused.length;
  if (unusedTotal) ctx.output.warn(`${unusedTotal} checkpoint tensor(s) not used by ${r.architecture}: ${r.unused.join(', ')}${unusedTotal > r.unused.length ? ', …' : ''}`);
  if (a.use === true) await ctx.config.setMachineModelPath(outcome.dir);
  else if (a.use !== false) {
    void vscode.window.showInformationMessage(`MoE Lens: imported ${name}: ${describe(r)}.`, 'Use This Model').then(async (b) => {
      if (b) await ctx.config.setMachineModelPath(outcome.dir);
    });
  }
  return outcome.dir;
}

/** The weights' precision for a picked folder (the CLI's --quant). */
async function pickPrecision(): Promise<'fp32' | 'int8' | 'int4' | undefined> {
  const items: (vscode.QuickPickItem & { value: 'fp32' | 'int8' | 'int4' })[] = [
    { label: 'float32', description: 'exact; about 4 bytes a parameter', value: 'fp32' },
    { label: 'int8', description: 'about 1 byte a parameter; routers stay float32', detail: 'Expert choices match float32 at ≥ 99% of decided tokens on the test checkpoints (docs/IMPORT.md)', value: 'int8' },
    { label: 'int4', description: 'about 0.6 bytes a parameter; routers stay float32', detail: 'Smallest; expert choices drift more (docs/IMPORT.md)', value: 'int4' },
  ];
  return (await vscode.window.showQuickPick(items, { title: 'MoE Lens: precision of the imported weights' }))?.value;
}

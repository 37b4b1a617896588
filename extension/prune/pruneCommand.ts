// "MoE Lens: Prune Experts for a Corpus…": the corpus, the held-out set, the criterion and the tolerance; then
// `moe-lens importance` and `moe-lens prune --keep auto` in child processes (pruneProcess.ts) under one cancellable
// progress notification; the quality curve and the importance heatmap in the routing panel; then "Apply as Steering"
// (the pruned experts disabled through the steering store, nothing exported), "Export Pruned Model…" (the same
// pruning, `prune --out` into the extension's models folder, as import does) and "Use Exported Model". Scripts and
// tests pass PruneCommandArgs instead of picking.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { pruneFraction, type PruneProgressEvent } from '../../common/pruneEvents';
import { IMPORTANCE_CRITERIA, type ImportanceCriterion, type ImportanceResult, type PruneResult, type TextSource } from '../../common/pruneProtocol';
import { withPruning } from '../../common/steeringRules';
import type { PruneAction } from '../../common/webviewMessages';
import type { Ctx } from '../ctx';
import { modelsDir } from '../models/importModelCommand';
import { safeFolderName } from '../models/modelName';
import { pickTexts } from './pickTexts';
import { importanceArgs, pruneArgs, type CliCall, type PruneRequest } from './pruneCliArgs';
import { exportPrunedIntoStorage, runPruneCli, type CliOutcome } from './pruneProcess';

export interface PruneCommandArgs {
  /** paths, or inline texts ({ name, text }: what an unsaved editor contributes) */
  corpus: TextSource[];
  eval: TextSource[];
  contrast?: TextSource[];
  criterion?: ImportanceCriterion;
  /** a fraction: 0.02 = a 2% rise in held-out bits per token */
  tolerance?: number;
  merge?: boolean;
  draws?: number;
}

interface Pruning {
  request: PruneRequest;
  result: PruneResult;
  importance?: ImportanceResult;
  caption: string;
  exported?: { dir: string; folder: string };
}

/** The last pruning (what the panel's buttons act on). */
let last: Pruning | undefined;

export const cliPath = (ctx: Ctx) => ctx.extension.asAbsolutePath('dist/cli.js');
const modelOf = (ctx: Ctx) => ctx.config.server.modelPath || undefined;
const modelLabel = (dir: string | undefined) => (dir ? basename(dir) : 'the embedded model');
const pct = (f: number) => `${(f * 100).toFixed(1)}%`;

function setContext(): void {
  void vscode.commands.executeCommand('setContext', 'moeLens.hasPruning', !!last);
  void vscode.commands.executeCommand('setContext', 'moeLens.hasPrunedExport', !!last?.exported);
}

/** Runs CLI commands one after another under one notification; Cancel kills the running child. */
export async function withCliProgress(ctx: Ctx, title: string, run: (step: (call: CliCall, command: 'importance' | 'prune' | 'offload', from: number, to: number) => Promise<CliOutcome>) => Promise<CliOutcome>): Promise<CliOutcome> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    let shown = 0;
    try {
      return await run((call, command, from, to) =>
        runPruneCli({
          cli: cliPath(ctx),
          ...call,
          signal: abort.signal,
          onLog: (line) => ctx.output.info(line),
          onProgress: (p: PruneProgressEvent) => {
            const pctDone = 100 * (from + (to - from) * pruneFraction(command, p));
            progress.report({ message: p.message, increment: Math.max(0, pctDone - shown) });
            shown = Math.max(shown, pctDone);
          },
        }),
      );
    } finally {
      sub.dispose();
    }
  });
}

/** Shows a failed or cancelled run; true when it was neither. */
export function reportOutcome(ctx: Ctx, what: string, o: CliOutcome | { kind: 'failed'; message: string } | { kind: 'cancelled' } | { kind: 'done' }): boolean {
  if (o.kind === 'cancelled') {
    ctx.output.info(`${what} cancelled`);
    void vscode.window.showInformationMessage(`MoE Lens: ${what} cancelled; nothing was kept.`);
    return false;
  }
  if (o.kind === 'failed') {
    ctx.output.error(`${what} failed: ${o.message}`);
    void vscode.window.showErrorMessage(`MoE Lens: ${what} failed: ${o.message}`, 'Show Log').then((b) => b && ctx.output.show(true));
    return false;
  }
  return true;
}

async function pickRequest(ctx: Ctx, a?: PruneCommandArgs): Promise<PruneRequest | undefined> {
  // Arguments (scripts, tests) ask nothing: what they leave out takes the CLI's defaults.
  if (a?.corpus) return { model: modelOf(ctx), corpus: a.corpus, eval: a.eval, contrast: a.contrast, criterion: a.criterion ?? 'reap', tolerance: a.tolerance ?? 0.02, keep: 'auto', merge: a.merge ?? false, draws: a.draws ?? 5 };
  const corpus = a?.corpus ?? (await pickTexts('MoE Lens: prune for which corpus? (the task text whose experts to keep)'));
  if (!corpus?.length) return undefined;
  const held = a?.eval ?? (await pickTexts('MoE Lens: held-out text to measure bits per token on (not the corpus)'));
  if (!held?.length) return undefined;
  let criterion = a?.criterion;
  if (!criterion) {
    const items: (vscode.QuickPickItem & { c: ImportanceCriterion })[] = [
      { label: 'reap', description: 'router-weighted expert activation: mean gate weight × ‖expert output‖ (REAP)', c: 'reap' },
      { label: 'frequency', description: 'how often the router selects the expert', c: 'frequency' },
      { label: 'weight', description: 'summed gate weight', c: 'weight' },
      { label: 'deltaP', description: 'share of tokens on the corpus minus on a second set (asks for it)', c: 'deltaP' },
    ];
    criterion = (await vscode.window.showQuickPick(items, { title: 'MoE Lens: rank experts by' }))?.c;
    if (!criterion) return undefined;
  }
  if (!IMPORTANCE_CRITERIA.includes(criterion)) return void vscode.window.showErrorMessage(`MoE Lens: unknown criterion ${String(criterion)}`);
  let contrast = a?.contrast;
  if (criterion === 'deltaP' && !contrast?.length) {
    contrast = await pickTexts('MoE Lens: the second set for ΔP (text the pruned model need not handle)');
    if (!contrast?.length) return undefined;
  }
  let tolerance = a?.tolerance;
  if (tolerance === undefined) {
    const v = await vscode.window.showInputBox({
      title: 'MoE Lens: tolerance',
      prompt: 'The threshold is the smallest kept fraction whose held-out bits per token rise by at most this much (percent).',
      value: '2',
      validateInput: (s) => (Number.isFinite(Number(s)) && Number(s) >= 0 && s.trim() !== '' ? undefined : 'A percentage ≥ 0, e.g. 2'),
    });
    if (v === undefined) return undefined;
    tolerance = Number(v) / 100;
  }
  let merge = a?.merge;
  if (merge === undefined) {
    const m = await vscode.window.showQuickPick(
      [
        { label: 'Pruning', description: 'the criterion, frequency and random pruning', merge: false },
        { label: 'Pruning and merging', description: 'also MC-SMoE merging: a merged model per kept fraction (slower)', merge: true },
      ],
      { title: 'MoE Lens: curves to measure' },
    );
    if (!m) return undefined;
    merge = m.merge;
  }
  return { model: modelOf(ctx), corpus, eval: held, contrast, criterion, tolerance, keep: 'auto', merge, draws: a?.draws ?? 5 };
}

/** Returns the pruning result, or undefined (nothing picked, cancelled, failed: all shown to the user). */
export async function pruneExperts(ctx: Ctx, arg?: unknown): Promise<PruneResult | undefined> {
  const request = await pickRequest(ctx, arg as PruneCommandArgs | undefined);
  if (!request) return undefined;
  ctx.output.info(`pruning ${modelLabel(request.model)} by ${request.criterion} for ${request.corpus.length} corpus text(s), held out ${request.eval.length}`);
  let importance: ImportanceResult | undefined;
  const outcome = await withCliProgress(ctx, `MoE Lens: pruning experts (${request.criterion})`, async (step) => {
    const imp = await step(importanceArgs(request), 'importance', 0, 0.1);
    if (imp.kind !== 'done') return imp;
    if (imp.done.command === 'importance') importance = imp.done.result;
    return step(pruneArgs(request), 'prune', 0.1, 1);
  });
  if (!reportOutcome(ctx, 'pruning', outcome) || outcome.kind !== 'done' || outcome.done.command !== 'prune') return undefined;
  const result = outcome.done.result;
  for (const w of result.warnings) ctx.output.warn(w);
  const E = result.curve.reduce((m, p) => Math.max(m, p.kept), 0);
  const caption = `${modelLabel(request.model)} · ${request.criterion} on ${request.corpus.length} text(s) (${result.tokens.corpus} tokens) · held out ${request.eval.length} (${result.tokens.eval} tokens) · threshold ${pct(result.threshold)} kept = ${result.keep} of ${E}`;
  last = { request: { ...request, keep: result.keep }, result, importance, caption };
  setContext();
  ctx.output.info(`pruning: baseline ${result.baselineBitsPerToken.toFixed(4)} bits/token; threshold ${pct(result.threshold)} (keep ${result.keep} of ${E} per layer, ${result.disabled.length} experts pruned)`);
  ctx.panel.showPruning(result, importance, caption);
  if ((arg as PruneCommandArgs | undefined)?.corpus === undefined) {
    void vscode.window.showInformationMessage(`MoE Lens: keeping ${result.keep} of ${E} experts per layer costs at most ${pct(result.tolerance)} held-out bits per token (threshold ${pct(result.threshold)}).`, 'Apply as Steering', 'Export Pruned Model…').then((b) => {
      if (b === 'Apply as Steering') void applyPruningAsSteering(ctx);
      else if (b) void exportPrunedModel(ctx);
    });
  }
  return result;
}

const noPruning = () => void vscode.window.showInformationMessage('MoE Lens: no pruning yet. Run “MoE Lens: Prune Experts for a Corpus…” first.');

/** The last pruning as steering: its pruned experts disabled (rules for other experts stay). */
export async function applyPruningAsSteering(ctx: Ctx): Promise<boolean> {
  if (!last) return noPruning(), false;
  if ((modelOf(ctx) ?? '') !== (last.request.model ?? '')) {
    void vscode.window.showErrorMessage(`MoE Lens: the pruning was measured on ${modelLabel(last.request.model)}, but ${modelLabel(modelOf(ctx))} is selected: select that model first.`);
    return false;
  }
  const layers = (await ctx.model())?.layers ?? last.importance?.scores.length;
  if (!layers) return void vscode.window.showErrorMessage('MoE Lens: no model is loaded (see the status bar).'), false;
  const ok = await ctx.steering.tryApply(withPruning(ctx.steering.rules, layers, last.result.disabled));
  if (ok) vscode.window.setStatusBarMessage(`MoE Lens: ${last.result.disabled.length} pruned experts disabled`, 4000);
  return ok;
}

/** The last pruning exported into the extension's models folder; returns its folder, or undefined. */
export async function exportPrunedModel(ctx: Ctx): Promise<string | undefined> {
  const p = last;
  if (!p) return noPruning(), undefined;
  const E = p.result.curve.reduce((m, x) => Math.max(m, x.kept), 0);
  const name = safeFolderName(`${modelLabel(p.request.model).replace(/^the /, '')}-${p.request.criterion}-${p.result.keep}of${E}`);
  ctx.output.info(`exporting the pruning (keep ${p.result.keep} of ${E} by ${p.request.criterion}) as "${name}"`);
  const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MoE Lens: exporting ${name}`, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    let shown = 0;
    try {
      return await exportPrunedIntoStorage({
        cli: cliPath(ctx),
        request: { ...p.request, merge: false, draws: 1 }, // the export needs the pruning, not the curve's extras
        modelsDir: modelsDir(ctx),
        name,
        signal: abort.signal,
        onLog: (line) => ctx.output.info(line),
        onProgress: (e) => {
          const v = 100 * pruneFraction('prune', e);
          progress.report({ message: e.message, increment: Math.max(0, v - shown) });
          shown = Math.max(shown, v);
        },
      });
    } finally {
      sub.dispose();
    }
  });
  if (!reportOutcome(ctx, 'export of the pruned model', outcome) || outcome.kind !== 'done') return undefined;
  if (String(outcome.result.disabled) !== String(p.result.disabled)) ctx.output.warn('the export pruned other experts than the curve shown (a different corpus on disk?)');
  p.exported = { dir: outcome.dir, folder: outcome.folder };
  setContext();
  ctx.output.info(`exported the pruned model into ${outcome.dir}`);
  ctx.panel.showPruning(p.result, p.importance, p.caption, outcome.folder);
  void vscode.window.showInformationMessage(`MoE Lens: exported ${outcome.folder} (${p.result.keep} of ${E} experts per layer).`, 'Use Exported Model').then((b) => b && void useExportedModel(ctx));
  return outcome.dir;
}

export async function useExportedModel(ctx: Ctx): Promise<void> {
  if (!last?.exported) return void vscode.window.showInformationMessage('MoE Lens: no pruned model exported yet (“Export Pruned Model…”).');
  await ctx.config.setMachineModelPath(last.exported.dir);
}

export function runPruneAction(ctx: Ctx, action: PruneAction): Promise<unknown> {
  return action === 'applySteering' ? applyPruningAsSteering(ctx) : action === 'export' ? exportPrunedModel(ctx) : useExportedModel(ctx);
}

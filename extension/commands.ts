import * as vscode from 'vscode';
import { plainLabel } from '../common/labelText';
import type { ModelInfo, SteeringMode, SteeringRule } from '../common/protocol';
import { HEATMAP_METRIC_IDS, HEATMAP_METRICS, HEATMAP_OFF, type HeatmapLayer } from '../common/heatmapMetrics';
import type { CommandId } from './commandIds';
import type { HeatmapChoice } from './config';
import type { Ctx } from './ctx';
import { compareContinuation } from './continuation/compareContinuation';
import { findContrastiveExperts } from './contrastive/findContrastiveExperts';
import { expertUsage, slotIndex } from '../common/routingLayout';
import { describeRule, ruleFor, toggledDisable } from '../common/steeringRules';
import { pickExpert, pickLayer } from './steering/expertPicks';
import { deletePreset, exportSteering, importSteering, loadPreset, savePreset } from './steering/presetCommands';
import { tokenAt } from '../common/tokens';
import { importModel } from './models/importModelCommand';
import { deleteImportedModel, selectModel } from './models/selectModel';
import { verifyModel } from './models/verifyModel';
import { routingStatistics } from './stats/routingStatistics';
import { applyPruningAsSteering, exportPrunedModel, pruneExperts, useExportedModel } from './prune/pruneCommand';
import { expertOffloading } from './prune/offloadCommand';
import { closeRoutingTrace, openRoutingTrace } from './traces/openRoutingTrace';
import { exportRouting } from './export/exportRouting';
import { NOT_IN_TRACE, NOT_RECORDED } from '../common/routingSource';

type Command = (ctx: Ctx, ...args: unknown[]) => unknown;

/** Every command of MoE Lens, registered from this one table (rust-analyzer's pattern); its keys are commandIds.ts. */
export const commands: Record<CommandId, Command> = {
  'moeLens.selectHeatmap': selectHeatmap,
  // the walkthrough's first step: an untitled copy of the shipped sample (analysed like any document, saved nowhere)
  'moeLens.openSample': async (ctx) => {
    const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'walkthrough', 'fib.py'));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: 'python', content: new TextDecoder().decode(bytes) }));
  },
  'moeLens.exportRouting': (ctx, ...a) => exportRouting(ctx, a[0] instanceof vscode.Uri ? a[0] : undefined),
  // the hover's "all layers" / "fewer layers" link: flips moeLens.hover.layers (the server re-reads its settings)
  'moeLens.toggleHoverLayers': (ctx) => ctx.config.setHoverLayers(ctx.config.hoverLayers === 'all' ? 'compact' : 'all'),
  'moeLens.disableExpert': (ctx, ...a) => steerExpert(ctx, 'disable', a[0] as Partial<SteeringRule> | undefined),
  'moeLens.forceExpert': (ctx, ...a) => steerExpert(ctx, 'force', a[0] as Partial<SteeringRule> | undefined),
  'moeLens.biasExpert': (ctx, ...a) => steerExpert(ctx, 'bias', a[0] as Partial<SteeringRule> | undefined),
  'moeLens.resetExpert': resetExpert,
  'moeLens.resetAllExperts': async (ctx) => {
    await applyRules(ctx, []);
  },
  'moeLens.toggleExpertAtCursor': toggleExpertAtCursor,
  'moeLens.savePreset': (ctx, ...a) => savePreset(ctx, a[0]),
  'moeLens.loadPreset': (ctx, ...a) => loadPreset(ctx, a[0]),
  'moeLens.deletePreset': (ctx, ...a) => deletePreset(ctx, a[0]),
  'moeLens.exportSteering': (ctx, ...a) => exportSteering(ctx, a[0]),
  'moeLens.importSteering': (ctx, ...a) => importSteering(ctx, a[0]),
  'moeLens.compareContinuation': (ctx, ...a) => compareContinuation(ctx, a[0]),
  'moeLens.findContrastiveExperts': (ctx, ...a) => findContrastiveExperts(ctx, a[0]),
  'moeLens.selectModel': selectModel,
  'moeLens.importModel': (ctx, ...a) => importModel(ctx, a[0]),
  'moeLens.deleteImportedModel': deleteImportedModel,
  'moeLens.verifyModel': (ctx, ...a) => verifyModel(ctx, a[0]),
  'moeLens.routingStatistics': (ctx, ...a) => routingStatistics(ctx, a[0]),
  'moeLens.pruneExperts': (ctx, ...a) => pruneExperts(ctx, a[0]),
  'moeLens.applyPruningAsSteering': applyPruningAsSteering,
  'moeLens.exportPrunedModel': exportPrunedModel,
  'moeLens.useExportedModel': useExportedModel,
  'moeLens.expertOffloading': (ctx, ...a) => expertOffloading(ctx, a[0]),
  'moeLens.openRoutingTrace': (ctx, ...a) => openRoutingTrace(ctx, a[0]),
  'moeLens.closeRoutingTrace': (ctx, ...a) => closeRoutingTrace(ctx, a[0]),
  'moeLens.restartServer': (ctx) => ctx.restartServer(),
  'moeLens.showOutput': (ctx) => ctx.output.show(true),
  'moeLens.showRoutingPanel': (ctx) => ctx.showRoutingPanel(false),
  'moeLens.openRoutingPanelBeside': (ctx) => ctx.showRoutingPanel(true),
  // For tests and scripts (not in the palette): decorated token counts per document uri, status bar text, rules.
  'moeLens._debugDecorationCounts': (ctx) => Object.fromEntries(ctx.decorations.counts),
  'moeLens._debugUsage': async (ctx, uri) => {
    const r = typeof uri === 'string' ? await ctx.routing.get(uri) : undefined;
    return r && expertUsage(r).active;
  },
  'moeLens._debugState': (ctx) => ({ decorations: Object.fromEntries(ctx.decorations.counts), status: ctx.statusBar.text, rules: ctx.steering.rules, labels: ctx.labels() ?? null }),
};

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return Object.entries(commands).map(([id, fn]) => vscode.commands.registerCommand(id, (...args: unknown[]) => fn(ctx, ...args)));
}

async function selectHeatmap(ctx: Ctx): Promise<void> {
  const metrics: { label: string; description: string; metric: HeatmapChoice }[] = [
    ...HEATMAP_METRIC_IDS.map((id) => ({ label: HEATMAP_METRICS[id].label, description: HEATMAP_METRICS[id].description, metric: id })),
    { label: HEATMAP_OFF.label, description: HEATMAP_OFF.description, metric: HEATMAP_OFF.id },
  ];
  const m = await vscode.window.showQuickPick(metrics, { title: 'MoE Lens: heatmap metric' });
  if (!m) return;
  const uses = m.metric === 'off' ? 'none' : HEATMAP_METRICS[m.metric].layers;
  if (uses === 'none' || uses === 'allLayers') return ctx.config.setHeatmap(m.metric);
  const model = await ctx.model();
  if (!model) return ctx.config.setHeatmap(m.metric);
  const layers: { label: string; layer: HeatmapLayer }[] = [];
  if (uses === 'layerOrMean') layers.push({ label: 'Mean over layers', layer: 'mean' });
  for (let l = 0; l < model.layers; l++) layers.push({ label: `Layer ${l}`, layer: l });
  const l = await vscode.window.showQuickPick(layers, { title: 'MoE Lens: heatmap layer' });
  if (l) await ctx.config.setHeatmap(m.metric, l.layer);
}

/** Applies a new rule set; a refused one (InvalidParams from the server) is shown and changes nothing. */
const applyRules = (ctx: Ctx, rules: SteeringRule[]): Promise<boolean> => ctx.steering.tryApply(rules);

async function usageOfActive(ctx: Ctx): Promise<number[][] | undefined> {
  const ed = vscode.window.activeTextEditor;
  const r = ed && (await ctx.routing.get(ed.document.uri.toString()));
  return r && expertUsage(r).active;
}

async function requireModel(ctx: Ctx): Promise<ModelInfo | undefined> {
  const model = await ctx.model();
  if (!model) void vscode.window.showErrorMessage('MoE Lens: no model is loaded (see the status bar).');
  return model;
}

/** Disable / force / bias: layer and expert from the arguments (tree, panel) or from quick picks. */
async function steerExpert(ctx: Ctx, mode: SteeringMode, arg?: Partial<SteeringRule>): Promise<void> {
  const model = await requireModel(ctx);
  if (!model) return;
  const layer = arg?.layer ?? (await pickLayer(model));
  if (layer === undefined) return;
  const expert = arg?.expert ?? (await pickExpert(model, layer, await usageOfActive(ctx), ctx.steering.rules, ctx.labels()));
  if (expert === undefined) return;
  let bias: number | undefined;
  if (mode === 'bias') {
    const v = arg?.bias ?? Number(await vscode.window.showInputBox({
      title: `MoE Lens: router-logit bias for expert ${expert}`,
      prompt: 'Added to the router logit before top-k selection (soft steering): positive favours the expert, negative avoids it.',
      value: '2',
      validateInput: (s) => (Number.isFinite(Number(s)) && s.trim() !== '' ? undefined : 'Enter a number, e.g. 2 or -1.5'),
    }));
    if (!Number.isFinite(v)) return;
    bias = v;
  }
  const rule: SteeringRule = mode === 'bias' ? { layer, expert, mode, bias } : { layer, expert, mode };
  if (await applyRules(ctx, [...ctx.steering.without(layer, expert), rule])) vscode.window.setStatusBarMessage(`MoE Lens: ${describeRule(rule)}`, 4000);
}

async function resetExpert(ctx: Ctx, arg?: unknown): Promise<void> {
  const a = arg as Partial<SteeringRule> | undefined;
  const rules = ctx.steering.rules;
  if (!rules.length) return void vscode.window.showInformationMessage('MoE Lens: no expert is steered.');
  let target = a?.expert !== undefined && a.layer !== undefined ? { layer: a.layer, expert: a.expert } : undefined;
  if (!target) {
    const pick = await vscode.window.showQuickPick(rules.map((r) => ({ label: describeRule(r), r })), { title: 'MoE Lens: reset which expert?' });
    if (!pick) return;
    target = pick.r;
  }
  await applyRules(ctx, ctx.steering.without(target.layer, target.expert));
}

/** The experts chosen for the token under the cursor, per layer: pick one to disable (or re-enable). */
async function toggleExpertAtCursor(ctx: Ctx): Promise<void> {
  const ed = vscode.window.activeTextEditor;
  if (!ed) return;
  const r = await ctx.routing.get(ed.document.uri.toString());
  if (!r || r.version !== ed.document.version) return void vscode.window.showInformationMessage('MoE Lens: no routing for this document yet.');
  const t = tokenAt(r.offsets, ed.document.offsetAt(ed.selection.active));
  if (t < 0) return;
  if (r.notRecorded?.includes(t)) return void vscode.window.showInformationMessage(`MoE Lens: this token's routing was ${NOT_RECORDED} by the engine.`);
  const { layers: L, topK: K } = r.model;
  const items: (vscode.QuickPickItem & { layer: number; expert: number })[] = [];
  for (let l = 0; l < L; l++) {
    for (let k = 0; k < K; k++) {
      const e = r.experts[slotIndex(r.model, t, l, k)];
      const disabled = ruleFor(ctx.steering.rules, l, e)?.mode === 'disable';
      items.push({ label: `${disabled ? '$(circle-slash)' : '$(circle-filled)'} Layer ${l} · Expert ${e}`, description: r.absent?.includes('weights') ? `weight ${NOT_IN_TRACE}` : `weight ${r.weights[slotIndex(r.model, t, l, k)].toFixed(2)}`, detail: ctx.labels()?.[l]?.[e] !== undefined ? plainLabel(ctx.labels()![l][e]) : undefined, layer: l, expert: e });
    }
  }
  const pick = await vscode.window.showQuickPick(items, { title: `MoE Lens: experts of "${ed.document.getText().slice(r.offsets[2 * t], r.offsets[2 * t + 1])}" — pick to disable / re-enable` });
  if (!pick) return;
  await applyRules(ctx, toggledDisable(ctx.steering.rules, L, pick.layer, pick.expert));
}

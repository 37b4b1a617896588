import * as vscode from 'vscode';
import { plainLabel } from '../common/labelText';
import type { ModelInfo, SteeringMode, SteeringRule } from '../common/protocol';
import type { HeatmapLayer, HeatmapMetric } from './config';
import type { Ctx } from './ctx';
import { compareContinuation } from './continuation/compareContinuation';
import { findContrastiveExperts } from './contrastive/findContrastiveExperts';
import { describeRule, expertUsage, pickExpert, pickLayer } from './steering/expertPicks';
import { deletePreset, exportSteering, importSteering, loadPreset, savePreset } from './steering/presetCommands';
import { tokenAt } from '../server/model/offsets';

type Command = (ctx: Ctx, ...args: unknown[]) => unknown;

/** Every command of MoE Lens, registered from this one table (rust-analyzer's pattern). */
export const commands: Record<string, Command> = {
  'moeLens.selectHeatmap': selectHeatmap,
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
  'moeLens.restartServer': (ctx) => ctx.restartServer(),
  'moeLens.showOutput': (ctx) => ctx.output.show(true),
  'moeLens.showRoutingPanel': (ctx) => ctx.showRoutingPanel(false),
  'moeLens.openRoutingPanelBeside': (ctx) => ctx.showRoutingPanel(true),
  // For tests and scripts (not in the palette): decorated token counts per document uri, status bar text, rules.
  'moeLens._debugDecorationCounts': (ctx) => Object.fromEntries(ctx.decorations.counts),
  'moeLens._debugUsage': async (ctx, uri) => {
    const r = typeof uri === 'string' ? await ctx.routing.get(uri) : undefined;
    return r && expertUsage(r);
  },
  'moeLens._debugState': (ctx) => ({ decorations: Object.fromEntries(ctx.decorations.counts), status: ctx.statusBar.text, rules: ctx.steering.rules, labels: ctx.labels() ?? null }),
};

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return Object.entries(commands).map(([id, fn]) => vscode.commands.registerCommand(id, (...args: unknown[]) => fn(ctx, ...args)));
}

async function selectHeatmap(ctx: Ctx): Promise<void> {
  const metrics: { label: string; description: string; metric: HeatmapMetric }[] = [
    { label: 'Top-1 expert', description: 'colour = the expert the router trusts most, at a layer', metric: 'expert' },
    { label: 'Router entropy', description: 'how unsure the router is (at a layer or mean over layers)', metric: 'entropy' },
    { label: 'Top-1 gate weight', description: 'how much weight the first expert gets', metric: 'gate' },
    { label: 'Surprisal', description: 'bits: how unexpected each token is to the model', metric: 'surprisal' },
    { label: 'Routing change', description: 'tokens whose experts changed under steering', metric: 'change' },
    { label: 'Off', description: 'no heatmap', metric: 'off' },
  ];
  const m = await vscode.window.showQuickPick(metrics, { title: 'MoE Lens: heatmap metric' });
  if (!m) return;
  // Surprisal is per token and "change" counts changed layers over all layers: neither needs a layer.
  if (m.metric === 'off' || m.metric === 'surprisal' || m.metric === 'change') return ctx.config.setHeatmap(m.metric);
  const model = await ctx.model();
  if (!model) return ctx.config.setHeatmap(m.metric);
  const layers: { label: string; layer: HeatmapLayer }[] = [];
  if (m.metric === 'entropy') layers.push({ label: 'Mean over layers', layer: 'mean' });
  for (let l = 0; l < model.layers; l++) layers.push({ label: `Layer ${l}`, layer: l });
  const l = await vscode.window.showQuickPick(layers, { title: 'MoE Lens: heatmap layer' });
  if (l) await ctx.config.setHeatmap(m.metric, l.layer);
}

/** Applies a new rule set; a refused one (InvalidParams from the server) is shown and changes nothing. */
const applyRules = (ctx: Ctx, rules: SteeringRule[]): Promise<boolean> => ctx.steering.tryApply(rules);

async function usageOfActive(ctx: Ctx): Promise<number[][] | undefined> {
  const ed = vscode.window.activeTextEditor;
  const r = ed && (await ctx.routing.get(ed.document.uri.toString()));
  return r && expertUsage(r);
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
  const { layers: L, topK: K } = r.model;
  const items: (vscode.QuickPickItem & { layer: number; expert: number })[] = [];
  for (let l = 0; l < L; l++) {
    for (let k = 0; k < K; k++) {
      const e = r.experts[(t * L + l) * K + k];
      const disabled = ctx.steering.rules.some((x) => x.expert === e && x.layer === l && x.mode === 'disable');
      items.push({ label: `${disabled ? '$(circle-slash)' : '$(circle-filled)'} Layer ${l} · Expert ${e}`, description: `weight ${r.weights[(t * L + l) * K + k].toFixed(2)}`, detail: ctx.labels()?.[l]?.[e] !== undefined ? plainLabel(ctx.labels()![l][e]) : undefined, layer: l, expert: e });
    }
  }
  const pick = await vscode.window.showQuickPick(items, { title: `MoE Lens: experts of "${ed.document.getText().slice(r.offsets[2 * t], r.offsets[2 * t + 1])}" — pick to disable / re-enable` });
  if (!pick) return;
  const disabled = ctx.steering.rules.some((x) => x.expert === pick.expert && x.layer === pick.layer && x.mode === 'disable');
  const rest = ctx.steering.without(pick.layer, pick.expert);
  await applyRules(ctx, disabled ? rest : [...rest, { layer: pick.layer, expert: pick.expert, mode: 'disable' }]);
}

async function selectModel(ctx: Ctx): Promise<void> {
  const choice = await vscode.window.showQuickPick([
    { label: 'Embedded model', description: 'the small MoE shipped with MoE Lens', path: '' },
    { label: 'Choose a folder…', description: 'a directory with moe.json, model.onnx and tokenizer.json', path: undefined as string | undefined },
  ], { title: 'MoE Lens: model' });
  if (!choice) return;
  let path = choice.path;
  if (path === undefined) {
    const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use this model' });
    if (!uri?.length) return;
    path = uri[0].fsPath;
  }
  await ctx.config.setModelPath(path);
}

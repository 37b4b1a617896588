import * as vscode from 'vscode';
import { plainLabel } from '../../common/labelText';
import type { ModelInfo, RoutingResult, SteeringRule } from '../../common/protocol';

/** Share of tokens of a document whose top-k at layer l contains each expert: usage[l][e] in [0,1]. */
export function expertUsage(r: RoutingResult): number[][] {
  const { layers: L, experts: E, topK: K } = r.model;
  const u = Array.from({ length: L }, () => new Array<number>(E).fill(0));
  for (let t = 0; t < r.tokens; t++) for (let l = 0; l < L; l++) for (let k = 0; k < K; k++) u[l][r.experts[(t * L + l) * K + k]]++;
  return u.map((row) => row.map((c) => (r.tokens ? c / r.tokens : 0)));
}

export function describeRule(r: SteeringRule): string {
  const where = r.layer === '*' ? 'all layers' : `layer ${r.layer}`;
  return r.mode === 'bias' ? `E${r.expert} @ ${where}: bias ${r.bias! >= 0 ? '+' : ''}${r.bias}` : `E${r.expert} @ ${where}: ${r.mode}d`;
}

export async function pickLayer(model: ModelInfo, allowAll = true): Promise<number | '*' | undefined> {
  const items: (vscode.QuickPickItem & { layer: number | '*' })[] = [];
  if (allowAll) items.push({ label: 'All layers', layer: '*' });
  for (let l = 0; l < model.layers; l++) items.push({ label: `Layer ${l}`, layer: l });
  return (await vscode.window.showQuickPick(items, { title: 'MoE Lens: layer', placeHolder: 'Choose a layer' }))?.layer;
}

export async function pickExpert(model: ModelInfo, layer: number | '*', usage: number[][] | undefined, rules: readonly SteeringRule[], labels?: string[][]): Promise<number | undefined> {
  const items: (vscode.QuickPickItem & { expert: number })[] = [];
  for (let e = 0; e < model.experts; e++) {
    const use = usage && layer !== '*' ? `${(usage[layer][e] * 100).toFixed(1)}% of tokens here` : usage ? `${((usage.reduce((s, row) => s + row[e], 0) / usage.length) * 100).toFixed(1)}% of tokens here (mean)` : '';
    const rule = rules.find((r) => r.expert === e && (r.layer === layer || r.layer === '*'));
    const raw = layer !== '*' ? labels?.[layer]?.[e] : undefined;
    const label = raw === undefined ? undefined : plainLabel(raw); // from a file: no codicons, no control characters
    items.push({ label: `Expert ${e}`, description: [use, rule ? `(${describeRule(rule)})` : ''].filter(Boolean).join(' '), detail: label, expert: e });
  }
  return (await vscode.window.showQuickPick(items, { title: `MoE Lens: expert (${layer === '*' ? 'all layers' : `layer ${layer}`})`, placeHolder: 'Choose an expert', matchOnDescription: true, matchOnDetail: true }))?.expert;
}

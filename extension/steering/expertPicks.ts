import * as vscode from 'vscode';
import { plainLabel } from '../../common/labelText';
import { shareText } from '../../common/shareText';
import type { ModelInfo, SteeringRule } from '../../common/protocol';
import { describeRule, ruleFor } from '../../common/steeringRules';

export async function pickLayer(model: ModelInfo, allowAll = true): Promise<number | '*' | undefined> {
  const items: (vscode.QuickPickItem & { layer: number | '*' })[] = [];
  if (allowAll) items.push({ label: 'All layers', layer: '*' });
  for (let l = 0; l < model.layers; l++) items.push({ label: `Layer ${l}`, layer: l });
  return (await vscode.window.showQuickPick(items, { title: 'MoE Lens: layer', placeHolder: 'Choose a layer' }))?.layer;
}

export async function pickExpert(model: ModelInfo, layer: number | '*', usage: number[][] | undefined, rules: readonly SteeringRule[], labels?: string[][]): Promise<number | undefined> {
  const items: (vscode.QuickPickItem & { expert: number })[] = [];
  for (let e = 0; e < model.experts; e++) {
    const use = usage && layer !== '*' ? `${shareText(usage[layer][e], model.topK)} here` : usage ? `${shareText(usage.reduce((s, row) => s + row[e], 0) / usage.length, model.topK)} here (mean over layers)` : '';
    const rule = layer === '*' ? rules.find((r) => r.expert === e && r.layer === '*') : ruleFor(rules, layer, e);
    const raw = layer !== '*' ? labels?.[layer]?.[e] : undefined;
    const label = raw === undefined ? undefined : plainLabel(raw); // from a file: no codicons, no control characters
    items.push({ label: `Expert ${e}`, description: [use, rule ? `(${describeRule(rule)})` : ''].filter(Boolean).join(' '), detail: label, expert: e });
  }
  return (await vscode.window.showQuickPick(items, { title: `MoE Lens: expert (${layer === '*' ? 'all layers' : `layer ${layer}`})`, placeHolder: 'Choose an expert', matchOnDescription: true, matchOnDetail: true }))?.expert;
}

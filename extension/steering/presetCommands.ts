// Commands for named steering presets and for steering files (JSON export / import). Each takes optional arguments
// so scripts and tests can run it without a quick pick: a preset name, or a file uri.
import * as vscode from 'vscode';
import type { SteeringRule } from '../../common/protocol';
import type { Ctx } from '../ctx';
import { describeRule } from '../../common/steeringRules';
import { parseSteeringFile, SteeringFileError, toSteeringFile } from './steeringFile';

const summary = (rules: readonly SteeringRule[]) =>
  rules.length ? rules.slice(0, 4).map(describeRule).join('; ') + (rules.length > 4 ? ` … (${rules.length} rules)` : '') : 'no rules (baseline)';

async function pickPreset(ctx: Ctx, title: string): Promise<string | undefined> {
  const presets = ctx.presets.list();
  if (!presets.length) {
    void vscode.window.showInformationMessage('MoE Lens: no steering presets saved yet ("MoE Lens: Save Steering Preset…").');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    presets.map((p) => ({ label: p.name, description: `${p.rules.length} rule${p.rules.length === 1 ? '' : 's'}${p.model ? ` · ${p.model}` : ''}`, detail: summary(p.rules) })),
    { title, matchOnDetail: true },
  );
  return pick?.label;
}

export async function savePreset(ctx: Ctx, name?: unknown): Promise<string | undefined> {
  let n = typeof name === 'string' ? name.trim() : undefined;
  if (!n) {
    n = (await vscode.window.showInputBox({
      title: 'MoE Lens: save the current steering as a preset',
      prompt: summary(ctx.steering.rules),
      placeHolder: 'preset name, e.g. "no python experts"',
      validateInput: (s) => (s.trim() ? undefined : 'Enter a name'),
    }))?.trim();
    if (!n) return undefined;
    if (ctx.presets.get(n) && (await vscode.window.showWarningMessage(`MoE Lens: replace the preset "${n}"?`, { modal: true }, 'Replace')) !== 'Replace') return undefined;
  }
  await ctx.presets.save(n, ctx.steering.rules, (await ctx.model())?.name);
  vscode.window.setStatusBarMessage(`MoE Lens: saved preset "${n}"`, 4000);
  return n;
}

export async function loadPreset(ctx: Ctx, name?: unknown): Promise<boolean> {
  const n = typeof name === 'string' ? name : await pickPreset(ctx, 'MoE Lens: load a steering preset');
  if (!n) return false;
  const preset = ctx.presets.get(n);
  if (!preset) {
    void vscode.window.showErrorMessage(`MoE Lens: there is no preset named "${n}".`);
    return false;
  }
  // The server validates against the loaded model: a preset made for a bigger model is refused with its reason.
  const ok = await ctx.steering.tryApply(preset.rules);
  if (ok) vscode.window.setStatusBarMessage(`MoE Lens: preset "${n}" applied (${preset.rules.length} rules)`, 4000);
  return ok;
}

export async function deletePreset(ctx: Ctx, name?: unknown): Promise<boolean> {
  const n = typeof name === 'string' ? name : await pickPreset(ctx, 'MoE Lens: delete a steering preset');
  if (!n) return false;
  const deleted = await ctx.presets.delete(n);
  if (!deleted) void vscode.window.showErrorMessage(`MoE Lens: there is no preset named "${n}".`);
  return deleted;
}

export async function exportSteering(ctx: Ctx, target?: unknown): Promise<vscode.Uri | undefined> {
  const uri = target instanceof vscode.Uri ? target : typeof target === 'string' ? vscode.Uri.parse(target) : await vscode.window.showSaveDialog({
    title: 'MoE Lens: export steering rules',
    filters: { 'Steering rules': ['json'] },
    defaultUri: vscode.workspace.workspaceFolders?.[0] && vscode.Uri.joinPath(vscode.workspace.workspaceFolders[0].uri, 'moe-steering.json'),
  });
  if (!uri) return undefined;
  const file = toSteeringFile(ctx.steering.rules, (await ctx.model())?.name);
  await vscode.workspace.fs.writeFile(uri, Buffer.from(JSON.stringify(file, null, 2) + '\n', 'utf8'));
  vscode.window.setStatusBarMessage(`MoE Lens: exported ${file.actions.length} rules to ${vscode.workspace.asRelativePath(uri)}`, 4000);
  return uri;
}

export async function importSteering(ctx: Ctx, source?: unknown): Promise<boolean> {
  const uri = source instanceof vscode.Uri ? source : typeof source === 'string' ? vscode.Uri.parse(source) : (await vscode.window.showOpenDialog({
    title: 'MoE Lens: import steering rules',
    filters: { 'Steering rules': ['json'] },
    canSelectMany: false,
  }))?.[0];
  if (!uri) return false;
  let parsed;
  try {
    parsed = parseSteeringFile(Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8'));
  } catch (e) {
    const why = e instanceof SteeringFileError ? e.message : `cannot read it (${(e as Error).message})`;
    void vscode.window.showErrorMessage(`MoE Lens: ${vscode.workspace.asRelativePath(uri)} was not imported: ${why}. The steering state is unchanged.`);
    return false;
  }
  const model = (await ctx.model())?.name;
  if (parsed.model && model && parsed.model !== model) {
    ctx.output.warn(`importing steering rules made for model "${parsed.model}" into "${model}"`);
  }
  const ok = await ctx.steering.tryApply(parsed.rules);
  if (ok) vscode.window.setStatusBarMessage(`MoE Lens: imported ${parsed.rules.length} rules`, 4000);
  return ok;
}

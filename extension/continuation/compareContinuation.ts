// "MoE Lens: Compare Continuation": from the cursor, the model continues the text twice — unsteered and with the
// steering rules in force — and a diff editor shows the two side by side while tokens stream in. Cancellable from
// the progress notification; what was generated until then stays visible.
import * as vscode from 'vscode';
import { LSPErrorCodes } from 'vscode-languageclient/node';
import { SteeringMethods, type GenerateParams, type GenerateResult } from '../../common/protocol';
import type { Ctx } from '../ctx';
import { describeRule } from '../../common/steeringRules';

export interface CompareArgs {
  uri?: string;
  offset?: number;
  maxNewTokens?: number;
  temperature?: number;
  seed?: number;
  /** skip the "no rules are active" question (scripts, tests) */
  quiet?: boolean;
}

let runs = 0;

export async function compareContinuation(ctx: Ctx, arg?: unknown): Promise<GenerateResult | undefined> {
  const a = (arg ?? {}) as CompareArgs;
  const editor = vscode.window.activeTextEditor;
  const doc = a.uri ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === a.uri) : editor?.document;
  if (!doc) return void vscode.window.showInformationMessage('MoE Lens: open a document and put the cursor where the continuation should start.');
  const offset = a.offset ?? (editor?.document === doc ? doc.offsetAt(editor.selection.active) : doc.getText().length);
  const rules = ctx.steering.rules;
  if (!rules.length && !a.quiet) {
    const go = await vscode.window.showWarningMessage('MoE Lens: no expert is steered, so both continuations will be the same. Disable, force or bias an expert first.', 'Compare Anyway');
    if (go !== 'Compare Anyway') return undefined;
  }
  const settings = ctx.config.continuation;
  const id = `run-${++runs}`;
  const ext = /\.[A-Za-z0-9]+$/.exec(doc.uri.path)?.[0] ?? '.txt';
  const uris = ctx.continuations.open(id, ext);
  const name = vscode.workspace.asRelativePath(doc.uri);
  const title = `${name}: baseline ↔ steered (${rules.length ? rules.map(describeRule).join('; ') : 'no rules'})`;
  await vscode.commands.executeCommand('vscode.diff', uris.baseline, uris.steered, title, { preview: true, viewColumn: vscode.ViewColumn.Beside, preserveFocus: true });
  const params: GenerateParams = {
    uri: doc.uri.toString(),
    offset,
    maxNewTokens: a.maxNewTokens ?? settings.maxNewTokens,
    temperature: a.temperature ?? settings.temperature,
    seed: a.seed ?? settings.seed,
    progressId: id,
  };
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'MoE Lens: generating baseline and steered continuations', cancellable: true },
    async (progress, token) => {
      // Each new token of either side is one notification: two per step.
      const max = params.maxNewTokens ?? 64;
      let updates = 0;
      const sub = ctx.continuations.onProgress((p) => {
        if (p.id !== id) return;
        updates++;
        progress.report({ increment: 50 / Math.max(1, max), message: `${Math.ceil(updates / 2)} of ${max} tokens` });
      });
      try {
        const r = await ctx.request(SteeringMethods.generate, params, token);
        ctx.continuations.update(id, r.baseline, r.steered);
        const where = r.firstDivergence < 0 ? 'identical' : `differ from token ${r.firstDivergence + 1}`;
        vscode.window.setStatusBarMessage(`MoE Lens: continuations ${where} (${r.tokens.baseline.length} / ${r.tokens.steered.length} tokens)`, 8000);
        return r;
      } catch (e) {
        if ((e as { code?: number }).code === LSPErrorCodes.RequestCancelled || token.isCancellationRequested) {
          vscode.window.setStatusBarMessage('MoE Lens: generation cancelled; the diff shows what was generated until then', 6000);
          return undefined;
        }
        void vscode.window.showErrorMessage(`MoE Lens: the continuation failed: ${(e as Error).message}`);
        return undefined;
      } finally {
        sub.dispose();
      }
    },
  );
}

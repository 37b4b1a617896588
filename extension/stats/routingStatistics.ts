// "MoE Lens: Routing Statistics…": per-layer routing statistics (moeLens/stats) over the open documents, the workspace
// files matching a glob, or the model's profile corpus; with progress and cancellation. The result goes to the
// routing panel's Statistics view and, as JSON, to the output channel (for copying into a notebook).
import * as vscode from 'vscode';
import { statsTable } from '../../common/statsTable';
import { isAnalysedScheme } from '../../common/analysedDocuments';
import { LSPErrorCodes } from 'vscode-languageclient/node';
import { StatsRequest, type StatsParams, type StatsProgress, type StatsResult } from '../../common/protocol';
import type { Ctx } from '../ctx';

/** The server's moeLens/statsProgress notifications (extension/main.ts forwards them here). */
export const statsProgress = new vscode.EventEmitter<StatsProgress>();

/** Files a workspace glob may add (the server refuses more than 500 texts per request). */
export const MAX_GLOB_FILES = 200;

export interface StatisticsArgs {
  /** skip the pickers (scripts, tests) */
  params?: StatsParams;
}

type Scope = 'open' | 'glob' | 'profile';

async function pickParams(): Promise<StatsParams | undefined> {
  const open = vscode.workspace.textDocuments.filter((d) => isAnalysedScheme(d.uri.scheme));
  const pick = await vscode.window.showQuickPick<vscode.QuickPickItem & { scope: Scope }>(
    [
      { label: 'Open documents', description: `${open.length} document${open.length === 1 ? '' : 's'}`, scope: 'open' },
      { label: 'Workspace files…', description: `a glob, at most ${MAX_GLOB_FILES} files`, scope: 'glob' },
      { label: "The model's profile corpus", description: 'held-out text per training domain (moe.json profileCorpus)', scope: 'profile' },
    ],
    { title: 'MoE Lens: routing statistics over…' },
  );
  if (!pick) return undefined;
  if (pick.scope === 'profile') return { profileCorpus: true };
  if (pick.scope === 'open') return open.length ? { uris: open.map((d) => d.uri.toString()) } : void vscode.window.showInformationMessage('MoE Lens: no document is open.');
  const glob = await vscode.window.showInputBox({ title: 'MoE Lens: workspace files (glob)', value: '**/*.{py,ts,js,md,json,c,cpp,h}', prompt: 'node_modules is left out' });
  if (!glob) return undefined;
  const files = await vscode.workspace.findFiles(glob, '**/node_modules/**', MAX_GLOB_FILES + 1);
  if (!files.length) return void vscode.window.showInformationMessage(`MoE Lens: no workspace file matches ${glob}.`);
  if (files.length > MAX_GLOB_FILES) void vscode.window.showWarningMessage(`MoE Lens: ${glob} matches more than ${MAX_GLOB_FILES} files; counting the first ${MAX_GLOB_FILES}.`);
  return { uris: files.slice(0, MAX_GLOB_FILES).map((u) => u.toString()) };
}

export async function routingStatistics(ctx: Ctx, arg?: unknown): Promise<StatsResult | undefined> {
  const a = (arg ?? {}) as StatisticsArgs;
  const params = a.params ?? (await pickParams());
  if (!params) return undefined;
  const progressId = `stats-${Date.now()}`;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'MoE Lens: routing statistics', cancellable: true },
    async (progress, token) => {
      let last = 0;
      const sub = statsProgress.event((p) => {
        if (p.id !== progressId || !p.total) return;
        progress.report({ message: p.file ? `${p.done + 1}/${p.total}: ${p.file.slice(p.file.lastIndexOf('/') + 1)}` : 'done', increment: ((p.done - last) / p.total) * 100 });
        last = p.done;
      });
      try {
        return await ctx.request(StatsRequest, { ...params, progressId }, token);
      } catch (e) {
        if ((e as { code?: number }).code !== LSPErrorCodes.RequestCancelled && !token.isCancellationRequested) void vscode.window.showErrorMessage(`MoE Lens: routing statistics failed: ${(e as Error).message}`);
        return undefined;
      } finally {
        sub.dispose();
      }
    },
  );
  if (!result) return undefined;
  ctx.output.info(`routing statistics:\n${statsTable(result)}`);
  ctx.panel.showStatistics(result);
  return result;
}

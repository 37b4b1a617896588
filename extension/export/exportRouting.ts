// "MoE Lens: Export Routing…": the routing of the open documents MoE Lens analyses, as Parquet or safetensors
// (common/routingExport.ts), to a file the user picks in a save dialog — nothing is written anywhere else.
import { homedir } from 'node:os';
import * as vscode from 'vscode';
import { isAnalysedScheme } from '../../common/analysedDocuments';
import { routingParquet, routingSafetensors, type ExportDocument } from '../../common/routingExport';
import { steeringKey } from '../../common/steeringRules';
import type { Ctx } from '../ctx';

/** `target`: a file to write without asking (tests, scripts); otherwise the save dialog asks. */
export async function exportRouting(ctx: Ctx, target?: vscode.Uri): Promise<void> {
  const open = vscode.workspace.textDocuments.filter((d) => isAnalysedScheme(d.uri.scheme) && !d.isClosed);
  if (!open.length) return void vscode.window.showInformationMessage('MoE Lens: open a document to export its routing.');
  const uri = target ?? (await vscode.window.showSaveDialog({
    title: 'MoE Lens: Export Routing',
    saveLabel: 'Export',
    defaultUri: vscode.Uri.joinPath(vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(homedir()), 'routing.parquet'),
    filters: { Parquet: ['parquet'], safetensors: ['safetensors'] },
  }));
  if (!uri) return;
  const docs: ExportDocument[] = [];
  const skipped: string[] = [];
  const steering = steeringKey(ctx.steering.rules);
  for (const d of open) {
    const r = await ctx.routing.get(d.uri.toString());
    const name = vscode.workspace.asRelativePath(d.uri);
    // only a complete result of the text as it is now (its offsets index this text)
    if (!r || r.partial || r.version !== d.version) skipped.push(name);
    else docs.push({ name, text: d.getText(), result: r, steering: r.steered ? steering : '' });
  }
  if (!docs.length) return void vscode.window.showWarningMessage(`MoE Lens: no routing to export yet (${skipped.join(', ')} not analysed).`);
  try {
    const bytes = uri.path.endsWith('.safetensors') ? routingSafetensors(docs) : routingParquet(docs);
    await vscode.workspace.fs.writeFile(uri, bytes);
  } catch (e) {
    return void vscode.window.showErrorMessage(`MoE Lens: could not export the routing to ${uri.fsPath}: ${(e as Error).message}`);
  }
  const rows = docs.reduce((s, d) => s + d.result.tokens * d.result.model.layers, 0);
  ctx.output.info(`exported ${docs.length} document(s), ${rows} rows to ${uri.fsPath}${skipped.length ? `; not analysed yet: ${skipped.join(', ')}` : ''}`);
  void vscode.window.showInformationMessage(`MoE Lens: exported ${docs.length} document${docs.length === 1 ? '' : 's'} (${rows} token × layer rows) to ${vscode.workspace.asRelativePath(uri)}.`);
}

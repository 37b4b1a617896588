// The status bar's token count follows the active editor: on a switch of editor, and whenever the routing of the
// active document changes. An editor MoE Lens does not analyse (the log, a continuation, a diff original) keeps the
// last analysed document's count; no editor at all clears it.
import * as vscode from 'vscode';
import { isAnalysedScheme, NOTEBOOK_CELL_SCHEME } from '../common/analysedDocuments';
import { cellContextCaption } from '../common/cellContextCaption';
import type { RoutingStore } from './routingStore';
import type { StatusBar } from './statusBar';

export function followActiveEditor(routing: RoutingStore, statusBar: StatusBar): vscode.Disposable {
  let shown: string | undefined;
  const update = async (): Promise<void> => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      shown = undefined;
      return statusBar.setActive(undefined);
    }
    if (!isAnalysedScheme(editor.document.uri.scheme)) return;
    const uri = editor.document.uri.toString();
    if (shown !== uri) statusBar.setActive(undefined); // not the previous document's count while this one is fetched
    shown = uri;
    const r = routing.peek(uri) ?? (await routing.get(uri));
    if (shown !== uri || !r) return; // the user moved on meanwhile, or nothing yet (routingChanged comes later)
    const context = r.context && cellContextCaption(r.context, r.model.contextLength);
    statusBar.setActive({ name: documentName(editor.document), tokens: r.tokens, ms: r.elapsedMs, truncated: r.truncated, windows: r.windows, context });
  };
  void update();
  return vscode.Disposable.from(
    vscode.window.onDidChangeActiveTextEditor(() => void update()),
    routing.onDidChange(({ uri }) => uri === shown && void update()),
  );
}

/** A file's workspace-relative path; a notebook cell's is its notebook's, with the cell's number. */
function documentName(doc: vscode.TextDocument): string {
  if (doc.uri.scheme !== NOTEBOOK_CELL_SCHEME) return vscode.workspace.asRelativePath(doc.uri);
  for (const nb of vscode.workspace.notebookDocuments) {
    const i = nb.getCells().findIndex((c) => c.document === doc);
    if (i >= 0) return `${vscode.workspace.asRelativePath(nb.uri)} · cell ${i + 1}`;
  }
  return vscode.workspace.asRelativePath(doc.uri.with({ scheme: 'file', fragment: '' }));
}

// The status bar's token count follows the active editor: on a switch of editor, and whenever the routing of the
// active document changes. An editor MoE Lens does not analyse (the log, a continuation, a diff original) keeps the
// last analysed document's count; no editor at all clears it.
import * as vscode from 'vscode';
import { isAnalysedScheme } from '../common/analysedDocuments';
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
    statusBar.setActive({ name: vscode.workspace.asRelativePath(editor.document.uri), tokens: r.tokens, ms: r.elapsedMs, truncated: r.truncated, windows: r.windows });
  };
  void update();
  return vscode.Disposable.from(
    vscode.window.onDidChangeActiveTextEditor(() => void update()),
    routing.onDidChange(({ uri }) => uri === shown && void update()),
  );
}

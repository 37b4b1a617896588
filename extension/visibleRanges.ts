import * as vscode from 'vscode';
import { isAnalysedScheme } from '../common/analysedDocuments';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Methods, type VisibleRangesParams } from '../common/protocol';

/**
 * Tells the server which part of each document is on screen (moeLens/visibleRanges), so that a long document's
 * windows there are analysed first. Scrolling comes in bursts: the last position of each burst is sent.
 */
export function registerVisibleRanges(client: () => LanguageClient | undefined): vscode.Disposable & { sendAll(): void } {
  const timers = new Map<vscode.TextEditor, ReturnType<typeof setTimeout>>();
  const send = (editor: vscode.TextEditor) => {
    const doc = editor.document;
    if (!isAnalysedScheme(doc.uri.scheme)) return;
    const c = client();
    if (!c?.isRunning()) return;
    const params: VisibleRangesParams = { uri: doc.uri.toString(), ranges: editor.visibleRanges.map((r) => [doc.offsetAt(r.start), doc.offsetAt(r.end)]) };
    void c.sendNotification(Methods.visibleRanges, params).catch(() => undefined);
  };
  const later = (editor: vscode.TextEditor) => {
    clearTimeout(timers.get(editor));
    timers.set(editor, setTimeout(() => {
      timers.delete(editor);
      send(editor);
    }, 100));
  };
  const subs = [
    vscode.window.onDidChangeTextEditorVisibleRanges((e) => later(e.textEditor)),
    vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach(send)),
  ];
  return {
    /** every visible editor, e.g. to a server that just (re)started */
    sendAll: () => vscode.window.visibleTextEditors.forEach(send),
    dispose: () => {
      subs.forEach((d) => d.dispose());
      timers.forEach((t) => clearTimeout(t));
    },
  };
}

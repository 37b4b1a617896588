import * as vscode from 'vscode';
import type { GenerateProgress } from '../../common/protocol';

export const CONTINUATION_SCHEME = 'moe-lens-continuation';

/**
 * Read-only virtual documents holding the two continuations of a "Compare Continuation" run (baseline and steered),
 * updated while the server streams tokens, so the diff editor fills in as they come. A content provider's documents
 * cannot be edited, which is what we want: they show model output, nothing to save.
 */
export class ContinuationDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly runs = new Map<string, { baseline: vscode.Uri; steered: vscode.Uri }>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly progress = new vscode.EventEmitter<GenerateProgress>();
  readonly onDidChange = this.changed.event;
  /** every streamed update, after the documents changed */
  readonly onProgress = this.progress.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(CONTINUATION_SCHEME, this);
  // A closed continuation is not shown again (each run has new uris): its text can go.
  private readonly closing = vscode.workspace.onDidCloseTextDocument((d) => {
    if (d.uri.scheme !== CONTINUATION_SCHEME) return;
    this.texts.delete(d.uri.path);
    for (const [id, u] of this.runs) if (!this.texts.has(u.baseline.path) && !this.texts.has(u.steered.path)) this.runs.delete(id);
  });

  /** Sets both sides of run `id` (a GenerateProgress notification or the final result). */
  update(id: string, baseline: string, steered: string): void {
    const uris = this.runs.get(id);
    if (!uris) return; // its documents were closed
    for (const [uri, text] of [[uris.baseline, baseline], [uris.steered, steered]] as const) {
      if (!this.texts.has(uri.path) || this.texts.get(uri.path) === text) continue;
      this.texts.set(uri.path, text);
      this.changed.fire(uri);
    }
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '';
  }

  /** Starts run `id` with empty sides; `ext` (".py") gives them the source's language for highlighting. */
  open(id: string, ext: string): { baseline: vscode.Uri; steered: vscode.Uri } {
    const make = (side: string) => vscode.Uri.from({ scheme: CONTINUATION_SCHEME, path: `/${id}/${side}${ext}` });
    const uris = { baseline: make('baseline'), steered: make('steered') };
    this.runs.set(id, uris);
    this.texts.set(uris.baseline.path, '');
    this.texts.set(uris.steered.path, '');
    return uris;
  }

  /** The language server's moeLens/generateProgress notification. */
  onServerProgress(p: GenerateProgress): void {
    this.update(p.id, p.baseline, p.steered);
    this.progress.fire(p);
  }

  dispose(): void {
    this.registration.dispose();
    this.closing.dispose();
    this.changed.dispose();
    this.progress.dispose();
  }
}

import * as vscode from 'vscode';
import { isAnalysedScheme } from '../../common/analysedDocuments';
import type { RoutingResult } from '../../common/protocol';
import type { Config } from '../config';
import type { RoutingStore } from '../routingStore';
import { HEATMAP_METRICS } from '../../common/heatmapMetrics';
import { EXPERT_COLOURS, HEAT_LEVELS, tokenBuckets } from './heatmapBuckets';

/**
 * Paints routing heatmaps over visible editors. Decoration types are created once per colour (16 categorical +
 * 5 sequential, all theme colours from package.json, so light, dark and high-contrast themes each get their own) and
 * reused; each update sets every type's ranges for the editor.
 */
export class HeatmapDecorations implements vscode.Disposable {
  private readonly expertTypes = Array.from({ length: EXPERT_COLOURS }, (_, i) => this.type(`moeLens.expert${i}`));
  private readonly heatTypes = Array.from({ length: HEAT_LEVELS }, (_, i) => this.type(`moeLens.heat${i}`));
  private readonly disposables: vscode.Disposable[] = [];
  /** Decorated token count per open document (for the status bar and tests); a closed document's count goes. */
  readonly counts = new Map<string, number>();

  constructor(private readonly store: RoutingStore, private readonly config: Config) {
    this.disposables.push(
      vscode.window.onDidChangeVisibleTextEditors(() => this.refreshAll()),
      store.onDidChange(({ uri }) => this.refreshUri(uri)),
      vscode.workspace.onDidChangeConfiguration((e) => config.affectsHeatmap(e) && this.refreshAll()),
      vscode.workspace.onDidCloseTextDocument((d) => this.counts.delete(d.uri.toString())),
    );
  }

  private type(colour: string): vscode.TextEditorDecorationType {
    return vscode.window.createTextEditorDecorationType({ backgroundColor: new vscode.ThemeColor(colour), rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed });
  }

  refreshAll(): void {
    for (const e of vscode.window.visibleTextEditors) void this.refreshEditor(e);
  }

  private refreshUri(uri: string): void {
    for (const e of vscode.window.visibleTextEditors) if (e.document.uri.toString() === uri) void this.refreshEditor(e);
  }

  private async refreshEditor(editor: vscode.TextEditor): Promise<void> {
    if (!isAnalysedScheme(editor.document.uri.scheme)) return;
    const metric = this.config.heatmapMetric;
    const r = metric === 'off' ? undefined : await this.store.get(editor.document.uri.toString());
    // Only paint a result that belongs to the text on screen; a newer one is on its way otherwise.
    if (r && r.version !== editor.document.version) return;
    this.paint(editor, r);
  }

  private paint(editor: vscode.TextEditor, r: RoutingResult | undefined): void {
    const metric = this.config.heatmapMetric;
    const categorical = metric !== 'off' && HEATMAP_METRICS[metric].scale === 'categorical';
    const types = categorical ? this.expertTypes : this.heatTypes;
    const unused = categorical ? this.heatTypes : this.expertTypes;
    const ranges: vscode.Range[][] = types.map(() => []);
    let n = 0;
    if (r) {
      const buckets = tokenBuckets(r, metric, this.config.heatmapLayer);
      const doc = editor.document;
      for (let t = 0; t < r.tokens; t++) {
        const b = buckets[t];
        const [s, e] = [r.offsets[2 * t], r.offsets[2 * t + 1]];
        if (b < 0 || e <= s) continue;
        ranges[b].push(new vscode.Range(doc.positionAt(s), doc.positionAt(e)));
        n++;
      }
    }
    types.forEach((t, i) => editor.setDecorations(t, ranges[i]));
    unused.forEach((t) => editor.setDecorations(t, []));
    this.counts.set(editor.document.uri.toString(), n);
  }

  dispose(): void {
    [...this.expertTypes, ...this.heatTypes, ...this.disposables].forEach((d) => d.dispose());
  }
}

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Methods, type RoutingResult } from '../common/protocol';

/**
 * The one client-side model of routing results (GitLens style: decorations, tree and panel are separate views over
 * it). Keeps the newest result per document and fires when one arrives.
 */
export class RoutingStore implements vscode.Disposable {
  private readonly results = new Map<string, RoutingResult>();
  private readonly emitter = new vscode.EventEmitter<{ uri: string }>();
  readonly onDidChange = this.emitter.event;

  constructor(private readonly client: () => LanguageClient | undefined) {}

  /** The result for the document as it is now: cached when the version matches, else asked of the server. */
  async get(uri: string): Promise<RoutingResult | undefined> {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    const cached = this.results.get(uri);
    if (cached && doc && cached.version === doc.version) return cached;
    const c = this.client();
    if (!c || !c.isRunning()) return undefined;
    try {
      const r = await c.sendRequest<RoutingResult>(Methods.routing, { textDocument: { uri } });
      this.remember(uri, r);
      return r;
    } catch {
      return undefined; // the status bar shows server errors
    }
  }

  /** Latest known result without a round trip (may be for an older version). */
  peek(uri: string): RoutingResult | undefined {
    return this.results.get(uri);
  }

  /** Called on moeLens/routingChanged: fetch the new result and tell the views. */
  async refresh(uri: string): Promise<void> {
    this.results.delete(uri);
    if (await this.get(uri)) this.emitter.fire({ uri });
  }

  clear(): void {
    this.results.clear();
  }

  private remember(uri: string, r: RoutingResult): void {
    const old = this.results.get(uri);
    if (!old || old.version <= r.version) this.results.set(uri, r);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

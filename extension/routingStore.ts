import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Methods, type RoutingParams, type RoutingResult } from '../common/protocol';
import { unpackRouting } from '../common/routingCodec';
import { RefreshCoalescer } from './refreshCoalescer';

/**
 * The one client-side model of routing results (GitLens style: decorations, tree and panel are separate views over
 * it). Keeps the newest result per document and fires when one arrives.
 */
export class RoutingStore implements vscode.Disposable {
  private readonly results = new Map<string, RoutingResult>();
  /** results superseded on the server (routingChanged) but kept as the base of the next delta */
  private readonly stale = new Set<string>();
  private readonly emitter = new vscode.EventEmitter<{ uri: string }>();
  readonly onDidChange = this.emitter.event;

  private readonly refresher = new RefreshCoalescer((uri, partial) => this.refreshNow(uri, partial));

  /** `log`: where dropped failures are reported (the MoE Lens output channel) */
  constructor(private readonly client: () => LanguageClient | undefined, private readonly log: (message: string) => void = () => undefined) {}

  /** The result for the document as it is now: cached when the version matches, else asked of the server. */
  async get(uri: string, partial = false): Promise<RoutingResult | undefined> {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    const cached = this.results.get(uri);
    if (cached && doc && cached.version === doc.version && !this.stale.has(uri)) return cached;
    const c = this.client();
    if (!c || !c.isRunning()) return undefined;
    try {
      // Packed (base64 typed arrays), and a delta against the result held here when the server still has it: after
      // typing at the end of a long document only the last tokens travel.
      const base = this.results.get(uri);
      const params: RoutingParams = { textDocument: { uri }, encoding: 'packed', since: base?.version, ...(partial ? { partial } : {}) };
      const p = await c.sendRequest(Methods.routing, params);
      let r: RoutingResult;
      try {
        r = unpackRouting(p, base);
      } catch (e) {
        // a delta against a result this store no longer has (another request replaced it meanwhile): ask in full
        this.log(`routing delta for ${uri} could not be applied (${(e as Error).message}); asking for the full result`);
        r = unpackRouting(await c.sendRequest(Methods.routing, { textDocument: { uri }, encoding: 'packed' }));
      }
      this.remember(uri, r);
      return r;
    } catch (e) {
      // the status bar shows model errors; the log says which request failed and why (a cancellation is routine)
      const code = (e as { code?: number }).code;
      if (code !== -32800) this.log(`routing for ${uri} failed: ${(e as Error).message ?? String(e)}`);
      return undefined;
    }
  }

  /** Latest known result without a round trip (may be for an older version). */
  peek(uri: string): RoutingResult | undefined {
    return this.results.get(uri);
  }

  /**
   * Called on moeLens/routingChanged: fetch the new result and tell the views. `partial`: a long document's first
   * windows are ready — shown at once, and replaced when the complete result's notification comes.
   */
  refresh(uri: string, partial = false): void {
    this.stale.add(uri);
    this.refresher.notify(uri, partial); // coalesced: one fetch per quiet period, never one per notification
  }

  private async refreshNow(uri: string, partial: boolean): Promise<void> {
    if (await this.get(uri, partial)) this.emitter.fire({ uri });
  }

  clear(): void {
    this.refresher.clear();
    this.results.clear();
    this.stale.clear();
  }

  private remember(uri: string, r: RoutingResult): void {
    const old = this.results.get(uri);
    // a partial result that arrives after the complete one of its version must not replace it
    if (r.partial && old && old.version === r.version && !old.partial) return;
    if (!old || old.version <= r.version) {
      this.results.set(uri, r);
      this.stale.delete(uri);
    }
  }

  dispose(): void {
    this.refresher.clear();
    this.emitter.dispose();
  }
}

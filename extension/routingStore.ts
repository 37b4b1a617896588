import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Methods, type RoutingParams, type RoutingResult } from '../common/protocol';
import { unpackRouting } from '../common/routingCodec';
import { RefreshCoalescer } from './refreshCoalescer';
import { RoutingResults } from './routingResults';
import { isAnalysedScheme } from '../common/analysedDocuments';

/**
 * The one client-side model of routing results (GitLens style: decorations, tree and panel are separate views over
 * it). Keeps the newest result per open document (the rules: RoutingResults) and fires when one arrives; a closed
 * document's result is dropped.
 */
export class RoutingStore implements vscode.Disposable {
  private readonly results = new RoutingResults();
  private readonly emitter = new vscode.EventEmitter<{ uri: string }>();
  readonly onDidChange = this.emitter.event;

  private readonly refresher = new RefreshCoalescer((uri, partial) => this.refreshNow(uri, partial));

  /** `log`: where dropped failures are reported (the MoE Lens output channel) */
  private readonly closing: vscode.Disposable;

  constructor(private readonly client: () => LanguageClient | undefined, private readonly log: (message: string) => void = () => undefined) {
    this.closing = vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri.toString()));
  }

  /** The result for the document as it is now: cached when the version matches, else asked of the server. */
  async get(uri: string, partial = false): Promise<RoutingResult | undefined> {
    if (!isAnalysedScheme(uri)) return undefined; // continuations, output, git: never sent to the server, never logged
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    const cached = this.results.current(uri, doc?.version);
    if (cached) return cached;
    const c = this.client();
    if (!c || !c.isRunning()) return undefined;
    try {
      // Packed (base64 typed arrays), and a delta against the result held here when the server still has it: after
      // typing at the end of a long document only the last tokens travel.
      const base = this.results.peek(uri);
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
      // closed while the request ran: answer the caller, keep nothing
      if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri)) this.results.remember(uri, r);
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
    return this.results.peek(uri);
  }

  /**
   * Called on moeLens/routingChanged: fetch the new result and tell the views. `partial`: a long document's first
   * windows are ready — shown at once, and replaced when the complete result's notification comes.
   */
  refresh(uri: string, partial = false): void {
    this.results.superseded(uri);
    this.refresher.notify(uri, partial); // coalesced: one fetch per quiet period, never one per notification
  }

  private async refreshNow(uri: string, partial: boolean): Promise<void> {
    if (await this.get(uri, partial)) this.emitter.fire({ uri });
  }

  clear(): void {
    this.refresher.clear();
    this.results.clear();
  }

  /** The document closed: its result and any pending refresh go. */
  private forget(uri: string): void {
    this.refresher.forget(uri);
    this.results.forget(uri);
  }

  dispose(): void {
    this.closing.dispose();
    this.refresher.clear();
    this.emitter.dispose();
  }
}

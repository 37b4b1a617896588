// The pure core of RoutingStore: which routing result the extension holds per document, and when one replaces
// another. No vscode import, so the rules are unit-tested outside an editor host (test/unit/extensionStores.test.ts).
import type { RoutingResult } from '../common/protocol';

export class RoutingResults {
  private readonly results = new Map<string, RoutingResult>();
  /** results superseded on the server (routingChanged) but kept as the base of the next delta */
  private readonly stale = new Set<string>();

  /** The held result when it is for `version` and not superseded; undefined means ask the server. */
  current(uri: string, version: number | undefined): RoutingResult | undefined {
    const r = this.results.get(uri);
    return r && version !== undefined && r.version === version && !this.stale.has(uri) ? r : undefined;
  }

  /** Latest known result, current or not (the base of a delta; a view's result until the new one arrives). */
  peek(uri: string): RoutingResult | undefined {
    return this.results.get(uri);
  }

  /** The server announced a newer result: the held one stays as a delta base but is no longer current. */
  superseded(uri: string): void {
    if (this.results.has(uri)) this.stale.add(uri);
  }

  /**
   * Keeps `r` unless it is older than the held result, or a partial result of the version whose complete result is
   * already held (a partial answer can arrive after the complete one of its version). True when kept.
   */
  remember(uri: string, r: RoutingResult): boolean {
    const old = this.results.get(uri);
    if (r.partial && old && old.version === r.version && !old.partial) return false;
    if (old && old.version > r.version) return false;
    this.results.set(uri, r);
    this.stale.delete(uri);
    return true;
  }

  /** The document closed: nothing of it is kept (a reopened document starts from a full result). */
  forget(uri: string): void {
    this.results.delete(uri);
    this.stale.delete(uri);
  }

  /** A new server: no result of the old one holds. */
  clear(): void {
    this.results.clear();
    this.stale.clear();
  }

  /** Documents with a result held. */
  get size(): number {
    return this.results.size;
  }
}

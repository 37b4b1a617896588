// What the document analyses (documentAnalyses.ts) tell the client: a result is ready (the status's last analysis
// and moeLens/routingChanged), some windows of a long document are (routingChanged with `partial`), which document is
// being analysed (the status message: the client shows a spinner), and a background analysis that failed (the log).
import { Methods, type RoutingResult } from '../../common/protocol';
import { setStatus, type Server } from './serverState';

type Client = Pick<Server, 'connection' | 'state'>;

export function resultReady(s: Client, uri: string, r: RoutingResult): void {
  setStatus(s, { lastAnalysis: { uri, tokens: r.tokens, ms: r.elapsedMs, truncated: r.truncated, windows: r.windows } });
  void s.connection.sendNotification(Methods.routingChanged, { uri, version: r.version });
}

/** Some windows are ready (a partial result; the complete one follows with resultReady). */
export function partialReady(s: Client, uri: string, r: RoutingResult): void {
  void s.connection.sendNotification(Methods.routingChanged, { uri, version: r.version, partial: true });
}

/**
 * An analysis of `uri` starts, or the queue ran dry (undefined). While ready, the status's `message` names the
 * document; a notebook cell is named by its notebook (its URI's fragment only tells VS Code which cell).
 */
export function analysing(s: Client, uri: string | undefined): void {
  if (s.state.status.state === 'ready') setStatus(s, { message: uri ? `Analysing ${uri.slice(uri.lastIndexOf('/') + 1).replace(/#.*/, '')}` : undefined });
}

/** A background analysis (one nobody asked for yet) failed for another reason than being superseded: logged. */
export function analysisFailed(s: Client, uri: string, e: unknown): void {
  s.connection.console.error(`analysis of ${uri} failed: ${(e as Error)?.stack ?? String(e)}`);
}

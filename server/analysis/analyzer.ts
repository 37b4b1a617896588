// Routing of one document from scratch: the analysis engine (incremental.ts) from an empty cache. The pieces every
// analysis shares (options, tokenisation, partial results, the layer-major → token-major fill) are in windows.ts and
// re-exported here for the callers that only analyse whole texts.
import type { RoutingResult } from '../../common/protocol';
import type { ModelBackend } from '../model/backend';
import { analyzeIncremental } from './incremental';
import type { AnalyzeOptions } from './windows';

export { CancelledError, emptyResult, encodePrefix, partialResult, routerEntropy, safeCut, tokenSurprisal, type AnalyzeOptions } from './windows';

/**
 * Routing of one document: tokens, per layer the top-k experts and gate weights, router entropy, surprisal.
 * Each document runs alone, batch size 1 — never batched with another document, since capacity-limited routing can
 * leak between sequences of one batch ("Buffer Overflow in Mixture of Experts").
 * Texts longer than the context are cut into consecutive, non-overlapping windows of contextLength tokens; each
 * window starts without history, so its first token has surprisal 0 and little context.
 */
export async function analyzeText(session: ModelBackend, text: string, version: number, opts: AnalyzeOptions): Promise<RoutingResult> {
  // nobody continues it: the KV caches are neither copied out of the model nor kept
  return (await analyzeIncremental(session, text, version, { ...opts, keepCaches: false })).result;
}

import type { RoutingResult, SteeringRule } from '../../common/protocol';
import type { ForwardResult, ModelSession } from '../model/modelSession';
import { entropyNats, surprisalBits } from '../routing/math';
import { biasFromRules } from '../routing/steering';

export interface AnalyzeOptions {
  /** analyse at most this many tokens (moeLens.maxTokens) */
  maxTokens: number;
  rules: readonly SteeringRule[];
  /** when steered, also run the unsteered model and report its experts as baselineExperts */
  withBaseline?: boolean;
  /** polled between model calls: a newer document version makes this one obsolete */
  isCancelled?: () => boolean;
}

export class CancelledError extends Error {
  constructor() {
    super('analysis cancelled');
    this.name = 'CancelledError';
  }
}

/** No token of ours is longer than this many UTF-16 units on average: lets us cut a huge text before tokenising. */
const MAX_CHARS_PER_TOKEN = 32;

/**
 * Routing of one document: tokens, per layer the top-k experts and gate weights, router entropy, surprisal.
 * Each document runs alone, batch size 1 — never batched with another document, since capacity-limited routing can
 * leak between sequences of one batch ("Buffer Overflow in Mixture of Experts", shared/RESEARCH.md).
 * Texts longer than the context are cut into consecutive, non-overlapping windows of contextLength tokens; each
 * window starts without history, so its first token has surprisal 0 and little context.
 */
export async function analyzeText(session: ModelSession, text: string, version: number, opts: AnalyzeOptions): Promise<RoutingResult> {
  const started = performance.now();
  const { layers: L, experts: E, topK: K, contextLength: C } = session.info;
  const cut = text.length > opts.maxTokens * MAX_CHARS_PER_TOKEN;
  const source = cut ? text.slice(0, opts.maxTokens * MAX_CHARS_PER_TOKEN) : text;
  const enc = session.tokenizer.encode(source);
  const T = Math.min(enc.ids.length, opts.maxTokens);
  const ids = enc.ids.slice(0, T);
  const steered = opts.rules.length > 0;
  const bias = biasFromRules(opts.rules, session.info, session.manifest);
  const result: RoutingResult = {
    model: session.info,
    version,
    tokens: T,
    offsets: enc.offsets.slice(0, 2 * T),
    ids,
    experts: new Array(T * L * K),
    weights: new Array(T * L * K),
    entropy: new Array(T * L),
    surprisal: new Array(T),
    steered,
    windows: Math.max(1, Math.ceil(T / C)),
    truncated: cut || enc.ids.length > T,
    elapsedMs: 0,
  };
  const baseline = steered && opts.withBaseline ? new Array<number>(T * L * K) : undefined;
  const zero = new Float32Array(L * E);
  for (let start = 0; start < T; start += C) {
    if (opts.isCancelled?.()) throw new CancelledError();
    const win = ids.slice(start, start + C);
    const out = await session.forward(win, bias);
    fillWindow(result, out, start, L, E, K, session.info.vocabSize);
    if (baseline) {
      if (opts.isCancelled?.()) throw new CancelledError();
      const base = await session.forward(win, zero);
      copyExperts(baseline, base, start, L, K);
    }
  }
  if (baseline) result.baselineExperts = baseline;
  result.elapsedMs = Math.round(performance.now() - started);
  return result;
}

/** Writes one window's outputs (layer-major from the graph) into the token-major result arrays. */
function fillWindow(r: RoutingResult, out: ForwardResult, start: number, L: number, E: number, K: number, V: number): void {
  const n = out.tokens;
  copyExperts(r.experts, out, start, L, K);
  for (let j = 0; j < n; j++) {
    const t = start + j;
    for (let l = 0; l < L; l++) {
      for (let k = 0; k < K; k++) r.weights[(t * L + l) * K + k] = out.expertWeights[(l * n + j) * K + k];
      r.entropy[t * L + l] = entropyNats(out.routerLogits, (l * n + j) * E, E);
    }
    r.surprisal[t] = j === 0 ? 0 : surprisalBits(out.logits, r.ids[t], (j - 1) * V, V);
  }
}

function copyExperts(dst: number[], out: ForwardResult, start: number, L: number, K: number): void {
  const n = out.tokens;
  for (let j = 0; j < n; j++) {
    for (let l = 0; l < L; l++) {
      for (let k = 0; k < K; k++) dst[((start + j) * L + l) * K + k] = out.expertIds[(l * n + j) * K + k];
    }
  }
}

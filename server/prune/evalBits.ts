// Bits per token of texts under a steering rule set: the mean surprisal (bits) of every token that has a prefix in its
// window, with the tokenisation and windows of routing analysis (analyzeText). `moe-lens eval` and the pruning curve.
import type { SteeringRule } from '../../common/protocol';
import type { EvalResult } from '../../common/pruneProtocol';
import { analyzeText } from '../analysis/analyzer';
import type { ModelBackend } from '../model/backend';

export async function bitsPerToken(session: ModelBackend, texts: readonly string[], rules: readonly SteeringRule[], opts: { maxTokens: number; isCancelled?: () => boolean }): Promise<EvalResult> {
  const C = session.info.contextLength;
  let sum = 0;
  let tokens = 0;
  for (const text of texts) {
    const r = await analyzeText(session, text, 0, { maxTokens: opts.maxTokens, rules, isCancelled: opts.isCancelled });
    for (let t = 0; t < r.tokens; t++) {
      if (t % C === 0) continue; // the first token of a window is not predicted
      sum += r.surprisal[t];
      tokens++;
    }
  }
  return { bitsPerToken: tokens ? sum / tokens : NaN, tokens };
}

export const disableRules = (pairs: readonly [number, number][]): SteeringRule[] => pairs.map(([layer, expert]) => ({ layer, expert, mode: 'disable' }));

// Pure (no vscode import): the sentence shown with a contrastive ranking, in the panel and in the notification.
import type { ContrastiveResult } from '../../common/protocol';

/** Token counts of both sets and the effect of disabling the top n beside MoTE's random baseline. */
export function contrastiveCaption(r: ContrastiveResult): string {
  const m = r.measure;
  return `A: ${r.tokens.a} tokens · B: ${r.tokens.b} tokens · disabling the top ${r.n} changes M (surprisal A − B, bits/token) by ${m.effectTopN.toFixed(3)}; ${r.n} random experts: ${m.effectRandom.toFixed(3)} (mean of ${m.random.length} draws, sd ${m.randomSpread.std.toFixed(3)})`;
}

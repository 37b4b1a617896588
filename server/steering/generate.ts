// Text continuation with and without steering, one KV-cached step per new token: the prompt runs once, then each step
// feeds only the token just chosen (continuing costs one token of compute, not the whole prefix again).
// Comparing the two continuations shows what an expert contributes to generation, as MoTE (switching experts off
// changes behaviour) and SCMoE (contrasting routings at decode time) do (README.md, "Steering experts").
import { DEFAULT_CONTINUATION } from '../../common/defaults';
import type { SteeringRule } from '../../common/protocol';
import type { KvCache, ModelSession } from '../model/modelSession';
import { biasFromRules } from '../routing/expertBias';
import { mulberry32, sampleIndex } from './prng';

export interface GenerateOptions {
  /** new tokens at most (default 64) */
  maxNewTokens?: number;
  /** 0 (default) = greedy; > 0 samples from softmax(logits / temperature) */
  temperature?: number;
  /** PRNG seed for sampling (default 0): same seed, same continuation */
  seed?: number;
  /** expert_bias [L*E]; default all zero (unsteered) */
  bias?: Float32Array;
  /** polled before every model call; true stops the generation after the current step */
  isCancelled?: () => boolean;
  /** called after each new token with every token generated so far */
  onToken?: (id: number, ids: readonly number[]) => void;
}

export type StopReason = 'length' | 'endOfText' | 'cancelled';

export interface Generation {
  /** the new token ids (without a final <|endoftext|>) */
  ids: number[];
  text: string;
  /** prompt tokens the model saw */
  promptTokens: number;
  /** tokens cut from the front of a prompt too long for the context */
  droppedPromptTokens: number;
  stop: StopReason;
}

/** The id of the manifest's end-of-text token, or -1 when the model has none. */
export function endOfTextId(session: ModelSession): number {
  const eot = session.manifest.specialTokens?.endOfText;
  if (!eot) return -1;
  for (let id = session.info.vocabSize - 1; id >= 0; id--) if (session.tokenizer.tokenText(id) === eot) return id;
  return -1;
}

/** maxNewTokens within [0, context - 1]: at least one prompt token must fit beside the new ones. */
export function clampNewTokens(maxNewTokens: number | undefined, contextLength: number): number {
  const n = maxNewTokens ?? DEFAULT_CONTINUATION.maxNewTokens;
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`maxNewTokens must be a non-negative number, not ${String(maxNewTokens)}`);
  return Math.min(Math.floor(n), contextLength - 1);
}

/**
 * Continues `promptIds`. The model has a fixed context (RoPE positions trained up to contextLength), so a longer prompt
 * keeps its last (context - maxNewTokens) tokens and prompt plus continuation never exceed the context.
 * An empty prompt starts from <|endoftext|> (the document separator the model was trained with).
 */
export async function generate(session: ModelSession, promptIds: readonly number[], opts: GenerateOptions = {}): Promise<Generation> {
  const { layers: L, experts: E, vocabSize: V, contextLength: C } = session.info;
  const maxNew = clampNewTokens(opts.maxNewTokens, C);
  const bias = opts.bias ?? new Float32Array(L * E);
  const random = mulberry32(opts.seed ?? 0);
  const eot = endOfTextId(session);
  const keep = C - maxNew;
  let prompt = promptIds.slice(Math.max(0, promptIds.length - keep));
  const dropped = promptIds.length - prompt.length;
  if (prompt.length === 0) {
    if (eot < 0) throw new RangeError('the prompt is empty and the model has no end-of-text token to start from');
    prompt = [eot];
  }
  const ids: number[] = [];
  const done = (stop: StopReason): Generation => ({ ids, text: session.tokenizer.decode(ids), promptTokens: prompt.length, droppedPromptTokens: dropped, stop });
  if (maxNew === 0) return done('length');
  let input = prompt;
  let past: KvCache | undefined;
  for (;;) {
    if (opts.isCancelled?.()) return done('cancelled');
    const out = await session.forward(input, bias, past);
    past = out.present;
    const next = sampleIndex(out.logits, opts.temperature ?? 0, random, (out.tokens - 1) * V, V);
    if (next === eot) return done('endOfText');
    ids.push(next);
    opts.onToken?.(next, ids);
    if (ids.length >= maxNew) return done('length');
    // Without a KV cache in the graph the whole sequence must run again each step (slower, same result).
    input = past ? [next] : [...prompt, ...ids];
  }
}

export interface ContinuationOptions extends Omit<GenerateOptions, 'bias' | 'onToken'> {
  /** partial texts after every new token of either run */
  onProgress?: (baseline: string, steered: string) => void;
}

export interface ContinuationComparison {
  baseline: string;
  steered: string;
  tokens: { prompt: number; droppedPrompt: number; baseline: number[]; steered: number[] };
  /** index of the first continuation token that differs; -1 when the two continuations are identical */
  firstDivergence: number;
  stop: { baseline: StopReason; steered: StopReason };
}

/** Index of the first position where two id lists differ (a longer list differs where the shorter ends); -1 if equal. */
export function firstDivergence(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/**
 * Continues text[0, cursorOffset) twice: unsteered (bias 0) and under `rules`. Both runs use the same seed, so with
 * sampling they draw the same random numbers and differ only where steering changed the distribution.
 */
export async function compareContinuation(
  session: ModelSession,
  text: string,
  cursorOffset: number,
  opts: ContinuationOptions,
  rules: readonly SteeringRule[],
): Promise<ContinuationComparison> {
  const cut = Math.max(0, Math.min(text.length, Math.floor(cursorOffset)));
  const promptIds = session.tokenizer.encode(text.slice(0, cut)).ids;
  const partial = { baseline: '', steered: '' };
  const progress = (which: 'baseline' | 'steered') => (_id: number, ids: readonly number[]) => {
    if (!opts.onProgress) return;
    partial[which] = session.tokenizer.decode([...ids]);
    opts.onProgress(partial.baseline, partial.steered);
  };
  const common = { maxNewTokens: opts.maxNewTokens, temperature: opts.temperature, seed: opts.seed, isCancelled: opts.isCancelled };
  const [base, steered] = await Promise.all([
    generate(session, promptIds, { ...common, onToken: progress('baseline') }),
    generate(session, promptIds, { ...common, bias: biasFromRules(rules, session.info, session.manifest), onToken: progress('steered') }),
  ]);
  return {
    baseline: base.text,
    steered: steered.text,
    tokens: { prompt: base.promptTokens, droppedPrompt: base.droppedPromptTokens, baseline: base.ids, steered: steered.ids },
    firstDivergence: firstDivergence(base.ids, steered.ids),
    stop: { baseline: base.stop, steered: steered.stop },
  };
}

// The steering features' messages and shapes: continuation with and without steering, the contrastive expert search
// (SteerMoE ΔP with a MoTE random baseline), the next-token change at a position, and expert labels and usage.
// Re-exported by protocol.ts (kept apart so that each file stays small).
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { SteeringRule } from './protocol';

// (Expert labels and usage describe routing, not steering: their requests are in protocol.ts's Methods, their shapes here.)

export const SteeringMethods = {
  /** GenerateParams -> GenerateResult; streams generateProgress; cancellable */
  generate: new RequestType<GenerateParams, GenerateResult, void>('moeLens/generate'),
  /** server -> client: partial continuations of a running moeLens/generate */
  generateProgress: new NotificationType<GenerateProgress>('moeLens/generateProgress'),
  /** ContrastiveParams -> ContrastiveResult; cancellable */
  contrastive: new RequestType<ContrastiveParams, ContrastiveResult, void>('moeLens/contrastive'),
  nextTokenChange: new RequestType<NextTokenChangeParams, NextTokenChangeResult, void>('moeLens/nextTokenChange'),
} as const;

export interface GenerateParams {
  uri: string;
  /** UTF-16 offset of the cursor: the text before it is the prompt */
  offset: number;
  /** default 64 */
  maxNewTokens?: number;
  /** 0 (default) = greedy */
  temperature?: number;
  /** sampling seed, default 0 */
  seed?: number;
  /** echoed in every GenerateProgress notification; default the uri */
  progressId?: string;
}

export interface GenerateProgress {
  id: string;
  baseline: string;
  steered: string;
}

export type GenerateStop = 'length' | 'endOfText' | 'cancelled';

export interface GenerateResult {
  id: string;
  baseline: string;
  steered: string;
  /** the steering rules the steered run used (the server's state when the request came) */
  rules: SteeringRule[];
  tokens: { prompt: number; droppedPrompt: number; baseline: number[]; steered: number[] };
  /** index of the first continuation token that differs; -1 when identical */
  firstDivergence: number;
  stop: { baseline: GenerateStop; steered: GenerateStop };
}

/** A text for the contrastive search: an open document (or file) by uri, or literal text. */
export type TextSource = { uri: string } | { text: string };

export interface ContrastiveParams {
  setA: TextSource[];
  setB: TextSource[];
  /** experts switched off for the target measure (default 8) */
  n?: number;
  /** random draws of n experts for the baseline (default 5) */
  randomDraws?: number;
  seed?: number;
}

export interface ContrastiveRow {
  layer: number;
  expert: number;
  /** P(expert active | A): share of A's tokens whose top-k at this layer contains the expert */
  pA: number;
  pB: number;
  /** pA − pB (SteerMoE's risk difference) */
  deltaP: number;
  label?: string;
}

export interface ContrastiveResult {
  /** every (layer, expert), ΔP descending: the head is A's experts (disable them), the tail B's (force them) */
  rows: ContrastiveRow[];
  tokens: { a: number; b: number };
  /** the top-n rows as disable rules, ready for moeLens/setSteering */
  disable: SteeringRule[];
  /** the n most negative rows, most negative first */
  mostNegative: ContrastiveRow[];
  /** target measure M = mean surprisal on A − mean surprisal on B, bits per token */
  measure: {
    none: number;
    topN: number;
    random: number[];
    randomSpread: { mean: number; std: number; min: number; max: number };
    effectTopN: number;
    effectRandom: number;
  };
  n: number;
  seed: number;
}

export type ExpertLabels = string[][] | null;

export interface ExpertUsageParams {
  uri: string;
}

export interface ExpertUsageResult {
  uri: string;
  version: number;
  tokens: number;
  steered: boolean;
  /** [layer][expert]: share of tokens whose top-k contains the expert */
  active: number[][];
  /** [layer][expert]: share of the layer's routed slots (sums to 1 per layer) */
  slots: number[][];
}

export interface NextTokenChangeParams {
  uri: string;
  /** UTF-16 offset inside the token whose next-token prediction is wanted */
  offset: number;
}

export interface NextTokenChangeResult {
  /** token index and its UTF-16 [start, end) */
  position: number;
  range: [number, number];
  baseline: { id: number; text: string; p: number }[];
  steered: { id: number; text: string; p: number }[];
  /** KL(baseline || steered), nats */
  klNats: number;
  rulesActive: boolean;
}

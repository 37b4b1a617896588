// The shapes `moe-lens importance|prune|eval|offload --json` print (docs/PRUNING.md), and the inline texts the editor
// hands them on stdin. Pure types, shared by the CLI and the editor (extension/prune, the routing panel; checked by
// common/pruneValidation.ts).

export type ImportanceCriterion = 'frequency' | 'weight' | 'reap' | 'deltaP';
export const IMPORTANCE_CRITERIA: readonly ImportanceCriterion[] = ['frequency', 'weight', 'reap', 'deltaP'];

export interface ImportanceResult {
  criterion: ImportanceCriterion;
  tokens: number;
  /** scores[layer][expert]; higher = more important */
  scores: number[][];
}

export interface RandomBits {
  mean: number;
  sd: number;
  draws: number[];
}

export interface CurvePoint {
  keptFraction: number;
  /** experts kept per layer */
  kept: number;
  /** the chosen criterion's held-out bits per token */
  bitsPerToken: number;
  frequencyBitsPerToken: number;
  randomBitsPerToken: RandomBits;
  /** experts merged (MC-SMoE grouping, frequency-weighted average) down to `kept` per layer; when asked for */
  mergedBitsPerToken?: number;
}

export interface PruneResult {
  baselineBitsPerToken: number;
  /** the smallest kept fraction whose held-out bits per token rose by at most the tolerance (1 when none did) */
  threshold: number;
  tolerance: number;
  criterion: ImportanceCriterion;
  /** experts kept per layer: --keep, --keep-fraction's count, or with --keep auto the threshold's */
  keep: number;
  /** the exported model directory, or null without --out */
  out: string | null;
  /** the pruned (layer, expert) pairs for --keep / --keep-fraction: the steering that disables them is the same pruning */
  disabled: [number, number][];
  curve: CurvePoint[];
  tokens: { corpus: number; eval: number };
  warnings: string[];
}

export interface EvalResult {
  bitsPerToken: number;
  tokens: number;
}

export interface OffloadLayer {
  layer: number;
  srp: number;
  sch: number;
  /** hit rate of an LRU cache of C experts, C = 1 … E */
  lruHitRate: number[];
  /** bytes read into the cache per token, C = 1 … E */
  bytesPerToken: number[];
}

export interface OffloadResult {
  segment: number;
  schCache: number;
  expertBytes: number;
  tokens: number;
  layers: OffloadLayer[];
}

/**
 * Text that is not a file on disk (an untitled or unsaved editor) for `--corpus-text NAME`, `--eval-text NAME` and
 * `--contrast-text NAME`: the editor writes `InlineTexts` as JSON to the CLI's stdin, so the text never touches the
 * disk. `name` only identifies it (the document's URI) in messages and warnings.
 */
export interface InlineText {
  name: string;
  text: string;
}

export const INLINE_TEXTS_FORMAT = 'moe-lens-texts/1';

export interface InlineTexts {
  format: typeof INLINE_TEXTS_FORMAT;
  texts: InlineText[];
}

/** A corpus, held-out or contrast entry as the editor picks it: a path (or glob) on disk, or an inline text. */
export type TextSource = string | InlineText;

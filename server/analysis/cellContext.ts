// A notebook cell read in the context of the cells above it (moeLens.notebook.context: "cellsAbove"). The model reads
// one text — the cells above, each followed by a blank line, then the cell — and only the cell's own tokens are
// reported, in the cell's own offsets. The prefix is cut from the left so that prefix and cell fit in one context
// window: every token of the cell then sees the whole prefix that is kept (a second window would start without it).
// The pure parts (joining, the left cut, the slice back to the cell) are unit-tested (test/unit/cellContext.test.ts);
// contextText runs them with the model's tokenizer (test/model/cellContext.test.ts).
import type { CellContextInfo, RoutingResult } from '../../common/protocol';
import type { ModelBackend } from '../model/backend';
import { encodePrefix } from './windows';

/**
 * The text of the cells above, as the model reads them: each non-empty cell followed by a blank line (a cell that
 * ends with a newline gets one more, one that does not gets two), so the cell under analysis starts a paragraph.
 */
export function cellsAbovePrefix(cellsAbove: readonly string[]): string {
  return cellsAbove.filter((t) => t.length > 0).map((t) => (t.endsWith('\n') ? `${t}\n` : `${t}\n\n`)).join('');
}

/**
 * Where to cut a prefix whose tokens have these offsets so that at most `budget` tokens remain: the start of the first
 * token kept (0 when all fit; `length` when none may stay).
 */
export function leftCut(offsets: readonly number[], length: number, budget: number): number {
  const n = offsets.length / 2;
  if (budget <= 0) return length;
  return n <= budget ? 0 : offsets[2 * (n - budget)];
}

/** The first token of the combined text that belongs to the cell (it ends after the prefix); T when none does. */
export function firstCellToken(offsets: readonly number[], prefixLength: number): number {
  const T = offsets.length / 2;
  for (let t = 0; t < T; t++) if (offsets[2 * t + 1] > prefixLength) return t;
  return T;
}

/**
 * The cell's part of a result of the combined text: tokens [first, T), offsets moved back by `shift` (the prefix's
 * length; a token that straddles the boundary starts at 0), every per-token array sliced the same way.
 */
export function cellSlice(r: RoutingResult, first: number, shift: number, context: CellContextInfo): RoutingResult {
  const { layers: L, topK: K } = r.model;
  const offsets = r.offsets.slice(2 * first).map((o) => Math.max(0, o - shift));
  const out: RoutingResult = {
    ...r,
    tokens: r.tokens - first,
    offsets,
    ids: r.ids.slice(first),
    experts: r.experts.slice(first * L * K),
    weights: r.weights.slice(first * L * K),
    entropy: r.entropy.slice(first * L),
    surprisal: r.surprisal.slice(first),
    context,
  };
  if (r.baselineExperts) out.baselineExperts = r.baselineExperts.slice(first * L * K);
  if (r.notRecorded) out.notRecorded = r.notRecorded.filter((t) => t >= first).map((t) => t - first);
  return out;
}

/** What the model reads for a cell: the combined text, where the cell starts in it, and the context's description. */
export interface CellText {
  text: string;
  /** UTF-16 offset of the cell in `text` (the kept prefix's length) */
  start: number;
  /** tokens of `text` before the cell's first token */
  prefixTokens: number;
  context: CellContextInfo;
}

/**
 * The combined text for `cell` after `prefix` (cellsAbovePrefix of `cells` cells), the prefix cut from the left so
 * that prefix + cell hold at most `contextLength` tokens. A cell that fills the context alone gets no prefix
 * (context.tokens 0, truncated). Prefix tokens are counted in the combined text, as the model reads them: at the
 * boundary a token can split ("\n\n" alone, "\n" + "\n" before a word), so the fit is checked there and the cut
 * moved until it holds.
 */
export function contextText(tokenizer: ModelBackend['tokenizer'], prefix: string, cells: number, cell: string, contextLength: number): CellText {
  const cellTokens = encodePrefix({ tokenizer }, cell, contextLength).ids.length;
  const budget = contextLength - cellTokens;
  if (budget <= 0 || prefix.length === 0) {
    return { text: cell, start: 0, prefixTokens: 0, context: { cells, tokens: 0, truncated: prefix.length > 0 } };
  }
  // A tail long enough for the budget (tokens average 3–4 units; 8 per token leaves room), tokenised alone.
  let tail = prefix.slice(Math.max(0, prefix.length - (budget + 1) * 8));
  const alone = tokenizer.encode(tail);
  tail = tail.slice(leftCut(alone.offsets, tail.length, budget));
  for (;;) {
    const enc = tokenizer.encode(tail + cell);
    const first = firstCellToken(enc.offsets, tail.length);
    const over = enc.ids.length - contextLength;
    if (over <= 0 || tail.length === 0) {
      return { text: tail + cell, start: tail.length, prefixTokens: first, context: { cells, tokens: first, truncated: tail.length < prefix.length } };
    }
    const own = tokenizer.encode(tail);
    // at least one unit each round (a token of zero length cannot stall it)
    tail = tail.slice(Math.max(1, leftCut(own.offsets, tail.length, Math.max(0, own.ids.length - over))));
  }
}

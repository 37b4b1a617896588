// The words for what a notebook cell was read after (RoutingResult.context): the routing hover and the status bar's
// tooltip say the same thing, including when the prefix was cut to fit the model's context.
import type { CellContextInfo } from './protocol';

const cellsWord = (n: number) => `${n} cell${n === 1 ? '' : 's'} above`;

export function cellContextCaption(c: CellContextInfo, contextLength: number): string {
  if (c.tokens === 0) return `read alone: the cell fills the ${contextLength}-token context, the ${cellsWord(c.cells)} were left out`;
  return `read after the ${cellsWord(c.cells)} (${c.tokens} tokens of context${c.truncated ? `, cut from the left to fit the ${contextLength}-token context` : ''})`;
}

// Tokens as both sides see them: which token an editor offset falls in, and a token's text made readable.
import { escapeMarkdown } from './labelText';

/** Index of the token whose range contains the UTF-16 offset (or the nearest token before it); -1 if none. */
export function tokenAt(offsets: ArrayLike<number>, offset: number): number {
  let lo = 0;
  let hi = offsets.length / 2 - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[2 * mid] <= offset) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // An empty range (a token of continuation bytes) shows nothing: the character is in the token before it.
  while (best > 0 && offsets[2 * best] === offsets[2 * best + 1]) best--;
  return best;
}

/**
 * Makes whitespace visible and escapes Markdown with the one escaper (labelText.ts), so a token like "\n    " reads as
 * "↵····" and a hostile token (a URL, HTML, a link) stays text in a hover.
 */
export function visibleToken(text: string): string {
  const shown = text.replace(/\r/g, '␍').replace(/\n/g, '↵').replace(/\t/g, '⇥').replace(/ /g, '·');
  return escapeMarkdown(shown) || '∅';
}

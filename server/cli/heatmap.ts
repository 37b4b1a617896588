// The terminal view of a routing result: the text with each token's background coloured by its top-1 expert at one
// layer, then a legend (expert -> colour, share of tokens). Pure: result and text in, string out.
import type { RoutingResult } from '../../common/protocol';
import { shareDenominator } from '../../common/shareText';
import { slotIndex } from '../../common/routingLayout';
import { notRecordedSet } from '../../common/routingSource';
import { expertPalette256 } from './palette';

const RESET = '\x1b[0m';

/**
 * Makes a piece of the file safe and visible on a terminal: control characters (an ESC in the file would otherwise
 * drive the terminal) become their Unicode "control pictures"; a CR before LF is dropped (it would only move the
 * cursor), a lone CR shows as ␍. Tabs and line feeds stay.
 */
export function printable(text: string, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x09 || c === 0x0a) out += text[i];
    else if (c === 0x0d) out += text.charCodeAt(i + 1) === 0x0a ? '' : '\u240d';
    else if (c < 0x20) out += String.fromCharCode(0x2400 + c);
    else if (c === 0x7f) out += '\u2421';
    else if (c >= 0x80 && c <= 0x9f) out += '\ufffd';
    else out += text[i];
  }
  return out;
}

export function ansiHeatmap(text: string, r: RoutingResult, layer: number): string {
  const E = r.model.experts;
  const colours = expertPalette256(E);
  const paint = (e: number, s: string) => `\x1b[48;5;${colours[e].bg};38;5;${colours[e].fg}m${s}${RESET}`;
  const counts = new Array<number>(E).fill(0);
  let out = '';
  const notRecorded = notRecordedSet(r); // a trace's prefix-cached positions: printed without colour
  for (let t = 0; t < r.tokens; t++) {
    const piece = printable(text, r.offsets[2 * t], r.offsets[2 * t + 1]);
    if (notRecorded.has(t)) {
      out += piece;
      continue;
    }
    const e = r.experts[slotIndex(r.model, t, layer)];
    counts[e]++;
    // Colour each line of a token separately so that a newline does not paint the rest of the terminal row.
    out += piece.split('\n').map((s) => (s ? paint(e, s) : '')).join('\n');
  }
  if (r.truncated) out += `\n${RESET}… (truncated after ${r.tokens} tokens)`;
  const counted = Math.max(1, r.tokens - notRecorded.size);
  const legend = counts.map((c, e) => `${paint(e, ` E${String(e).padStart(2)} `)} ${((100 * c) / counted).toFixed(1).padStart(5)}%`);
  const rows: string[] = [];
  for (let i = 0; i < legend.length; i += 8) rows.push(legend.slice(i, i + 8).join('  '));
  return `${out}\n\n\x1b[1mtop-1 expert at layer ${layer}\x1b[0m (share ${shareDenominator(1)})\n${rows.join('\n')}\n`;
}

/** One line: model, provider, tokens, time, and windowing/truncation when they happened. */
export function summaryLine(r: RoutingResult): string {
  const notes = [
    r.source ? `${r.source.engine} trace ${r.source.file}${r.notRecorded?.length ? ` (${r.notRecorded.length} tokens not recorded)` : ''}` : '',
    r.windows > 1 ? `${r.windows} windows of ${r.model.contextLength} tokens` : '', r.truncated ? `truncated at ${r.tokens} tokens` : ''].filter(Boolean);
  return `${r.model.name}${r.model.weights ? ` (${r.model.weights})` : ''} · ${r.source ? 'trace' : r.model.executionProvider} · ${r.tokens} tokens · ${r.elapsedMs} ms${notes.length ? ` · ${notes.join(', ')}` : ''}`;
}

import { ModelLoadError } from './errors';

/**
 * A tokenizer.json normalizer, re-implemented with an alignment: for every UTF-16 unit of the normalized text, the
 * [start, end) range of the original text it came from. @huggingface/tokenizers applies the normalizer but gives no
 * offsets, and token bytes are bytes of the normalized text, so offsets into the document go through this map.
 * Only normalizers whose alignment is unambiguous are supported; the rest are refused at load time.
 */
export type NormalizerJson =
  | { type: 'NFC' | 'NFD' | 'NFKC' | 'NFKD' }
  | { type: 'Prepend'; prepend: string }
  | { type: 'Replace'; pattern: { String?: string; Regex?: string }; content: string }
  | { type: 'Sequence'; normalizers: NormalizerJson[] };

/** Normalized text; start/end per UTF-16 unit of it, or undefined where it is the original text unchanged. */
export interface AlignedText {
  text: string;
  start?: number[];
  end?: number[];
}

const UNICODE_FORMS = ['NFC', 'NFD', 'NFKC', 'NFKD'];

/** Throws a ModelLoadError naming the field if the normalizer (or one inside a Sequence) is not supported. */
export function checkNormalizer(json: unknown, file: string, field = '/normalizer'): void {
  if (json === null || json === undefined) return;
  const n = json as { type?: unknown; normalizers?: unknown; pattern?: { String?: unknown }; prepend?: unknown; content?: unknown };
  if (n.type === 'Sequence' && Array.isArray(n.normalizers)) {
    n.normalizers.forEach((x, i) => checkNormalizer(x, file, `${field}/normalizers/${i}`));
    return;
  }
  if (typeof n.type === 'string' && UNICODE_FORMS.includes(n.type)) return;
  if (n.type === 'Prepend' && typeof n.prepend === 'string') return;
  if (n.type === 'Replace' && typeof n.pattern?.String === 'string' && n.pattern.String !== '' && typeof n.content === 'string') return;
  const what = n.type === 'Replace' ? 'Replace with a regex pattern' : String(n.type);
  throw new ModelLoadError(`the normalizer ${what} is not supported (supported: NFC, NFD, NFKC, NFKD, Prepend, Replace with a string pattern, Sequence)`, file, field);
}

/** Applies a checked normalizer to text, keeping the alignment. */
export function normalizeAligned(text: string, json: NormalizerJson | null | undefined): AlignedText {
  let cur: AlignedText = { text };
  for (const n of flatten(json)) {
    if (UNICODE_FORMS.includes(n.type) && cur.text.normalize(n.type as 'NFC') === cur.text) continue; // most text: unchanged
    const starts = cur.start ?? identity(cur.text.length, 0);
    const ends = cur.end ?? identity(cur.text.length, 1);
    cur = apply(cur.text, starts, ends, n);
  }
  return cur;
}

function flatten(json: NormalizerJson | null | undefined): NormalizerJson[] {
  if (!json) return [];
  return json.type === 'Sequence' ? json.normalizers.flatMap(flatten) : [json];
}

function identity(n: number, shift: number): number[] {
  return Array.from({ length: n }, (_, i) => i + shift);
}

/** One step: builds the new text piece by piece, each piece aligned to the original range of its source units. */
function apply(text: string, start: number[], end: number[], n: NormalizerJson): AlignedText {
  const out: AlignedText & { start: number[]; end: number[] } = { text: '', start: [], end: [] };
  const push = (piece: string, s: number, e: number) => {
    out.text += piece;
    for (let k = 0; k < piece.length; k++) {
      out.start.push(s);
      out.end.push(e);
    }
  };
  if (n.type === 'Prepend') {
    // Hugging Face prepends only to non-empty text. The added units get an empty range at the first character,
    // so a token made only of them ("▁" before a CJK character) covers nothing rather than that character.
    if (text.length > 0) push(n.prepend, start[0], start[0]);
    for (let i = 0; i < text.length; i++) push(text[i], start[i], end[i]);
  } else if (n.type === 'Replace') {
    const pat = n.pattern.String!;
    let i = 0;
    while (i < text.length) {
      if (text.startsWith(pat, i)) {
        push(n.content, start[i], end[i + pat.length - 1]);
        i += pat.length;
      } else {
        push(text[i], start[i], end[i]);
        i++;
      }
    }
  } else if (n.type !== 'Sequence') {
    // Unicode forms only recombine a character with the marks that follow it, so normalise chunk by chunk (a
    // starter and its marks) and align within each chunk (alignChunk).
    const form = n.type;
    const chunks = unicodeChunks(text);
    const pieces = chunks.map(([a, b]) => text.slice(a, b).normalize(form));
    if (pieces.join('') !== text.normalize(form)) {
      // a composition across chunks this splitter does not know: align the whole text as one chunk (coarse, exact)
      push(text.normalize(form), text.length ? start[0] : 0, text.length ? end[text.length - 1] : 0);
    } else chunks.forEach(([a, b], k) => alignChunk(text, a, b, pieces[k], form, start, end, push));
  }
  return out;
}

/**
 * Aligns one chunk's normalized text (piece) to the code points of text[a, b), by position in the fully decomposed
 * text (both decompose to the same number of code points): each output character takes the original character
 * where its decomposition starts. So a composed "é" gets the "e" (the absorbed mark: no unit), each part of a
 * decomposed "ﬁ" gets the "ﬁ", and reordered marks are aligned by position, as Hugging Face's alignment does.
 */
function alignChunk(text: string, a: number, b: number, piece: string, form: string, start: number[], end: number[], push: (p: string, s: number, e: number) => void): void {
  const decompose = (ch: string) => [...ch.normalize(form === 'NFKC' || form === 'NFKD' ? 'NFKD' : 'NFD')].length;
  let i = a; // the original character holding decomposed position `pos`
  let iEnd = decompose(String.fromCodePoint(text.codePointAt(a)!)); // decomposed position where it ends
  let pos = 0;
  for (const out of piece) {
    while (pos >= iEnd && i + 1 < b) {
      i += text.codePointAt(i)! > 0xffff ? 2 : 1;
      iEnd += decompose(String.fromCodePoint(text.codePointAt(i)!));
    }
    const units = text.codePointAt(i)! > 0xffff ? 2 : 1;
    push(out, start[i], end[i + units - 1]);
    pos += decompose(out);
  }
}

/** [start, end) UTF-16 ranges: a code point plus the combining marks (and Hangul vowel/final jamo) after it. */
function unicodeChunks(text: string): [number, number][] {
  const chunks: [number, number][] = [];
  let i = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const joins = chunks.length > 0 && (/\p{M}/u.test(ch) || (cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0xd7b0 && cp <= 0xd7ff));
    if (joins) chunks[chunks.length - 1][1] = i + ch.length;
    else chunks.push([i, i + ch.length]);
    i += ch.length;
  }
  return chunks;
}

// JSON from a checkpoint is parsed only after a linear scan: nesting deeper than any real config (a 100k-deep array
// would overflow the stack of whatever walks it later, including the formatting of an error message) is refused, and
// the top-level keys are collected so duplicates can be refused where a format forbids them (safetensors headers:
// JSON.parse keeps the last of two equal keys, silently). Messages quote values only through excerpt().
import { ImportError } from './errors';

/** Deeper than any Hugging Face config, index, tokenizer or safetensors header (they nest fewer than 10 levels). */
export const MAX_JSON_DEPTH = 64;

export interface JsonScan {
  /** the first top-level key that occurs twice, when the text is an object */
  duplicate?: string;
  /** how many keys the top-level object has */
  topKeys: number;
  /** commas outside strings, at any depth: one less than the values in every list and object, so about how many
   *  values JSON.parse would build (what its memory grows with) */
  commas: number;
}

/** Scans `text` once; throws an ImportError naming `file` when it nests deeper than MAX_JSON_DEPTH. */
export function scanJson(text: string, file: string, field?: string): JsonScan {
  let depth = 0;
  let expectKey = false;
  const keys = new Set<string>();
  let duplicate: string | undefined;
  let topKeys = 0;
  let commas = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
      if (depth === 1 && expectKey) {
        topKeys++;
        if (duplicate === undefined) {
          const key = decodeKey(text.slice(start, i + 1));
          if (keys.has(key)) duplicate = key;
          keys.add(key);
        }
      }
      expectKey = false;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > MAX_JSON_DEPTH) throw new ImportError(`JSON nests deeper than ${MAX_JSON_DEPTH} levels at position ${i}`, file, field);
      expectKey = c === 0x7b && depth === 1;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    } else if (c === 0x2c /* , */) {
      commas++;
      if (depth === 1) expectKey = true;
    }
  }
  return duplicate === undefined ? { topKeys, commas } : { duplicate, topKeys, commas };
}

const decodeKey = (quoted: string): string => {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted;
  }
};

/** Where JSON.parse stopped, without the snippet of text V8 quotes (which could be a secret file). */
export function jsonPosition(e: unknown): string {
  const m = /position (\d+)/.exec(String((e as Error)?.message));
  return m ? ` at position ${m[1]}` : '';
}

/**
 * Scans, then parses `text`; errors name `file` and say where, never what the text holds. `check` sees the scan before
 * the parse: a caller refuses there what would be too large to build (a header listing more tensors than allowed).
 */
export function parseJsonText(text: string, file: string, field?: string, check?: (scan: JsonScan) => void): { value: unknown; scan: JsonScan } {
  const scan = scanJson(text, file, field);
  check?.(scan);
  try {
    return { value: JSON.parse(text) as unknown, scan };
  } catch (e) {
    throw new ImportError(`not valid JSON${jsonPosition(e)}`, file, field);
  }
}

/**
 * A short, escaped rendering of a value from a file, for a message: at most `max` characters, control and
 * non-printing characters escaped, lists and objects summarised. Never throws.
 */
export function excerpt(v: unknown, max = 40): string {
  try {
    if (v === undefined) return 'nothing';
    if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (Array.isArray(v)) return `a list of ${v.length} value${v.length === 1 ? '' : 's'}`;
    if (typeof v === 'object') return 'an object';
    const s = String(v);
    const cut = s.length > max ? `${s.slice(0, max)}…` : s;
    return `"${cut.replace(/[\p{C}"\\]/gu, (ch) => (ch === '"' || ch === '\\' ? `\\${ch}` : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`))}"`;
  } catch {
    return 'a value';
  }
}

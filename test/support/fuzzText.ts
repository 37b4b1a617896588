// Seeded document generators for the reliability suite and the soak (bench/soak.ts): code-like and hostile text —
// emoji, lone surrogates, NUL and control characters, CRLF, very long lines, huge whitespace runs, mixed scripts.
import { mulberry32 } from '../../server/steering/prng';

const PIECES = [
  'def ', 'return ', 'const x = ', 'function f(a, b) {', '}', '\n', '\r\n', '    ', '\t', '# comment', '// note',
  '"string"', "'s'", '`tpl $' + '{x}`', '😀', '🇺🇳', 'é', 'ß', '你好', 'Привет', 'مرحبا', '\u0000', '\u0007', '\ud800', '\udfff',
  '\u200b', '\u2028', '==', '=>', '**', '0x1F', '3.14159', 'NaN', '<|endoftext|>', '<script>', '![x](y)', ' ', '  ', '.',
];

/** A seeded generator of documents of up to `maxLength` UTF-16 units. */
export function fuzzDocuments(seed: number, maxLength = 600): () => string {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  return () => {
    const target = Math.floor(rnd() ** 2 * maxLength);
    let s = '';
    while (s.length < target) {
      const r = rnd();
      if (r < 0.6) s += pick(PIECES);
      else if (r < 0.8) s += String.fromCharCode(0x20 + Math.floor(rnd() * 95)).repeat(1 + Math.floor(rnd() * 3));
      else if (r < 0.9) s += String.fromCharCode(Math.floor(rnd() * 0x10000)); // any UTF-16 unit, surrogates included
      else if (r < 0.95) s += ' '.repeat(Math.floor(rnd() * 200));
      else s += 'x'.repeat(Math.floor(rnd() * 300));
    }
    return s.slice(0, Math.max(target, 0));
  };
}

/** A random edit of `text`: [start, end) replaced by `insert`, as UTF-16 offsets. */
export function fuzzEdit(rnd: () => number, text: string, next: () => string): { start: number; end: number; insert: string } {
  const start = Math.floor(rnd() * (text.length + 1));
  const end = Math.min(text.length, start + Math.floor(rnd() * 20));
  return { start, end, insert: next().slice(0, 1 + Math.floor(rnd() * 12)) };
}

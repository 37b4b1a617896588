// The compact wire form of a RoutingResult (moeLens/routing with encoding "packed"): the per-token arrays as base64
// little-endian typed arrays instead of JSON number lists, and after an edit only the tokens from the first one that
// changed (the client keeps the rest from the result it already has). Pure; Node's Buffer does the base64.
// Why: at 4k tokens a wide model's result is 19 MiB of JSON and its stringify alone costs more than the incremental
// re-analysis it carries (docs/PERFORMANCE.md).
import type { PackedRoutingResult, RoutingResult } from './protocol';

type ArrayKey = 'offsets' | 'ids' | 'experts' | 'weights' | 'entropy' | 'surprisal' | 'baselineExperts';
type Kind = 'u32' | 'ids' | 'f32';

/** Values per token of each array, and how it is stored. Expert ids take one byte while E ≤ 256, else two. */
function layout(r: { model: { layers: number; topK: number } }): [ArrayKey, number, Kind][] {
  const { layers: L, topK: K } = r.model;
  return [
    ['offsets', 2, 'u32'],
    ['ids', 1, 'u32'],
    ['experts', L * K, 'ids'],
    ['weights', L * K, 'f32'],
    ['entropy', L, 'f32'],
    ['surprisal', 1, 'f32'],
    ['baselineExperts', L * K, 'ids'],
  ];
}

function encode(values: readonly number[], kind: Kind, experts: number): string {
  const a = kind === 'f32' ? Float32Array.from(values) : kind === 'u32' || experts > 65536 ? Uint32Array.from(values) : experts > 256 ? Uint16Array.from(values) : Uint8Array.from(values);
  // eslint-disable-next-line no-restricted-globals -- Node's base64 is the fast one; only Node code imports the codec
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function decode(b64: string, kind: Kind, experts: number): number[] {
  // eslint-disable-next-line no-restricted-globals -- as in encode
  const buf = Buffer.from(b64, 'base64');
  const bytes = new Uint8Array(buf.byteLength);
  bytes.set(buf); // aligned copy: a Buffer may start at any offset of its pool
  const a = kind === 'f32' ? new Float32Array(bytes.buffer) : kind === 'u32' || experts > 65536 ? new Uint32Array(bytes.buffer) : experts > 256 ? new Uint16Array(bytes.buffer) : bytes;
  return Array.from(a);
}

/** Leading tokens whose every per-token value is the same in both results (0 when their shapes differ). */
export function unchangedTokens(base: RoutingResult, r: RoutingResult): number {
  if (base.firstToken || r.firstToken || base.source?.file !== r.source?.file || base.model.name !== r.model.name || base.model.layers !== r.model.layers || base.model.topK !== r.model.topK || !!base.baselineExperts !== !!r.baselineExperts) return 0;
  const n = Math.min(base.tokens, r.tokens);
  let keep = 0;
  const arrays = layout(r).filter(([k]) => r[k] !== undefined);
  for (; keep < n; keep++) {
    const same = arrays.every(([k, per]) => {
      const a = base[k]!, b = r[k]!;
      for (let i = keep * per; i < (keep + 1) * per; i++) if (a[i] !== b[i]) return false;
      return true;
    });
    if (!same) break;
  }
  return keep;
}

/** The packed form of `r`; with `base` (the result the client holds), only the tokens after the unchanged prefix. */
export function packRouting(r: RoutingResult, base?: RoutingResult): PackedRoutingResult {
  const keep = base ? unchangedTokens(base, r) : 0;
  const E = r.model.experts;
  const arrays: Partial<Record<ArrayKey, string>> = {};
  for (const [k, per, kind] of layout(r)) {
    const v = r[k];
    if (v !== undefined) arrays[k] = encode(v.slice(keep * per), kind, E);
  }
  const { offsets: _o, ids: _i, experts: _e, weights: _w, entropy: _h, surprisal: _s, baselineExperts: _b, ...header } = r;
  return { ...header, packed: { keep, baseVersion: base && keep > 0 ? base.version : undefined, arrays } };
}

/**
 * Back to a RoutingResult (a JSON answer is one already). A delta (keep > 0) needs the base it was made against: the
 * caller passes the result it sent `since` for; a mismatch is an error (the caller asks again without `since`).
 */
export function unpackRouting(p: PackedRoutingResult | RoutingResult, base?: RoutingResult): RoutingResult {
  if (!('packed' in p)) return p;
  const { packed, ...header } = p;
  const { keep } = packed;
  if (keep > 0 && (!base || base.version !== packed.baseVersion)) throw new Error(`routing delta against version ${packed.baseVersion}, but the client holds ${base?.version ?? 'none'}`);
  // A partial result and the complete one share a version: a delta made against the complete one cannot be applied
  // to the shorter partial the client may still hold.
  if (keep > 0 && keep > base!.tokens) throw new Error(`routing delta keeps ${keep} tokens, but the client's result has ${base!.tokens}`);
  const out = { ...header } as RoutingResult;
  const E = p.model.experts;
  for (const [k, per, kind] of layout(p)) {
    const b64 = packed.arrays[k];
    if (b64 === undefined) continue;
    const tail = decode(b64, kind, E);
    out[k] = keep > 0 ? [...base![k]!.slice(0, keep * per), ...tail] : tail;
  }
  return out;
}

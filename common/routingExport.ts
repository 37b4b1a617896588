// Routing out, for pandas, numpy and notebooks: one row per (document, token, layer) as Parquet (hyparquet-writer) or
// the same data as arrays in a safetensors file. Pure (bytes in memory): `moe-lens export` (server/cli) and the
// editor's "Export Routing…" (extension/export) both write what this returns, to a file the user chose.
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { RoutingResult } from './protocol';
import { has } from './routingSource';
import { layerIndex, slotIndex } from './routingLayout';

export interface ExportDocument {
  /** the document's name as the user knows it (a relative path) */
  name: string;
  /** the text the routing was computed on (token texts are sliced from it) */
  text: string;
  result: RoutingResult;
  /** the steering rules in force, as a stable key ("" = unsteered; server/routing/expertBias.ts steeringKey) */
  steering: string;
}

/** Column names, in file order; expert_1…expert_K and weight_1…weight_K are the top-k in rank order. */
export function exportColumnNames(k: number): string[] {
  const ranks = Array.from({ length: k }, (_, i) => i + 1);
  return ['document', 'token', 'token_id', 'token_text', 'start', 'end', 'layer', ...ranks.map((r) => `expert_${r}`), ...ranks.map((r) => `weight_${r}`), 'entropy', 'surprisal', 'steering'];
}

type Column = { name: string; data: (string | number | null)[]; type: 'STRING' | 'INT32' | 'FLOAT' };

/**
 * The table as columns. Gate weights, entropy and surprisal are null where the source lacks them (an engine trace),
 * and tokens the engine did not record are left out.
 */
export function routingColumns(docs: readonly ExportDocument[]): Column[] {
  const k = Math.max(1, ...docs.map((d) => d.result.model.topK));
  const cols = new Map<string, Column>();
  const col = (name: string, type: Column['type']) => cols.set(name, { name, type, data: [] });
  exportColumnNames(k).forEach((n) => col(n, n === 'document' || n === 'token_text' || n === 'steering' ? 'STRING' : n.startsWith('weight') || n === 'entropy' || n === 'surprisal' ? 'FLOAT' : 'INT32'));
  const push = (name: string, v: string | number | null) => cols.get(name)!.data.push(v);
  for (const d of docs) {
    const r = d.result;
    const { layers: L, topK: K } = r.model;
    const [w, ent, sur] = [has(r, 'weights'), has(r, 'entropy'), has(r, 'surprisal')];
    const skip = new Set(r.notRecorded ?? []);
    for (let t = 0; t < r.tokens; t++) {
      if (skip.has(t)) continue;
      const [s, e] = [r.offsets[2 * t], r.offsets[2 * t + 1]];
      for (let l = 0; l < L; l++) {
        push('document', d.name);
        push('token', t);
        push('token_id', r.ids[t]);
        push('token_text', d.text.slice(s, e));
        push('start', s);
        push('end', e);
        push('layer', l);
        const base = slotIndex(r.model, t, l);
        for (let i = 0; i < k; i++) {
          push(`expert_${i + 1}`, i < K ? r.experts[base + i] : null);
          push(`weight_${i + 1}`, i < K && w ? r.weights[base + i] : null);
        }
        push('entropy', ent ? r.entropy[layerIndex(r.model, t, l)] : null);
        push('surprisal', sur ? r.surprisal[t] : null);
        push('steering', d.steering);
      }
    }
  }
  return [...cols.values()];
}

/** The table as a Parquet file (snappy-compressed, the writer's defaults); model names in the key-value metadata. */
export function routingParquet(docs: readonly ExportDocument[]): Uint8Array {
  const models = [...new Set(docs.map((d) => d.result.model.name))];
  return new Uint8Array(parquetWriteBuffer({ columnData: routingColumns(docs), kvMetadata: [{ key: 'moe-lens', value: JSON.stringify({ format: 'moe-lens-routing/1', models }) }], createdBy: 'moe-lens' }));
}

/**
 * The same data as arrays (safetensors: 8-byte little-endian header length, JSON header, raw little-endian data),
 * token-major over all documents: `document` [N] (index into the metadata's documents), `token_index`, `token_id`,
 * `offsets` [N,2], `experts` [N,L,K], `weights` [N,L,K], `entropy` [N,L], `surprisal` [N]. Every document must come
 * from one model (one L and K). Absent metrics (a trace) are NaN.
 */
export function routingSafetensors(docs: readonly ExportDocument[]): Uint8Array {
  const shapes = new Set(docs.map((d) => `${d.result.model.layers}x${d.result.model.topK}`));
  if (shapes.size > 1) throw new Error(`safetensors export needs one model shape; got layers×topK ${[...shapes].join(', ')}`);
  const L = docs[0]?.result.model.layers ?? 0;
  const K = docs[0]?.result.model.topK ?? 0;
  const rows = docs.flatMap((d, di) => {
    const skip = new Set(d.result.notRecorded ?? []);
    return Array.from({ length: d.result.tokens }, (_, t) => [di, t] as const).filter(([, t]) => !skip.has(t));
  });
  const N = rows.length;
  const tensors: [string, 'I32' | 'F32', number[], Int32Array | Float32Array][] = [
    ['document', 'I32', [N], Int32Array.from(rows, ([di]) => di)],
    ['token_index', 'I32', [N], Int32Array.from(rows, ([, t]) => t)],
    ['token_id', 'I32', [N], Int32Array.from(rows, ([di, t]) => docs[di].result.ids[t])],
    ['offsets', 'I32', [N, 2], Int32Array.from(rows.flatMap(([di, t]) => [docs[di].result.offsets[2 * t], docs[di].result.offsets[2 * t + 1]]))],
    ['experts', 'I32', [N, L, K], Int32Array.from(rows.flatMap(([di, t]) => docs[di].result.experts.slice(t * L * K, (t + 1) * L * K)))],
    ['weights', 'F32', [N, L, K], Float32Array.from(rows.flatMap(([di, t]) => (has(docs[di].result, 'weights') ? docs[di].result.weights.slice(t * L * K, (t + 1) * L * K) : new Array<number>(L * K).fill(NaN))))],
    ['entropy', 'F32', [N, L], Float32Array.from(rows.flatMap(([di, t]) => (has(docs[di].result, 'entropy') ? docs[di].result.entropy.slice(t * L, (t + 1) * L) : new Array<number>(L).fill(NaN))))],
    ['surprisal', 'F32', [N], Float32Array.from(rows, ([di, t]) => (has(docs[di].result, 'surprisal') ? docs[di].result.surprisal[t] : NaN))],
  ];
  const header: Record<string, unknown> = {
    __metadata__: { format: 'moe-lens-routing/1', documents: JSON.stringify(docs.map((d) => d.name)), steering: JSON.stringify(docs.map((d) => d.steering)), models: JSON.stringify(docs.map((d) => d.result.model.name)) },
  };
  let at = 0;
  for (const [name, dtype, shape, data] of tensors) {
    header[name] = { dtype, shape, data_offsets: [at, at + data.byteLength] };
    at += data.byteLength;
  }
  const raw = new TextEncoder().encode(JSON.stringify(header)); // document names may be non-ASCII: pad bytes, not chars
  const head = new Uint8Array(raw.length + ((8 - ((8 + raw.length) % 8)) % 8)).fill(0x20); // 8-byte aligned data (padding spaces are allowed)
  head.set(raw);
  const out = new Uint8Array(8 + head.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const [, , , data] of tensors) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), p); // typed arrays are little-endian on every platform Node runs on
    p += data.byteLength;
  }
  return out;
}

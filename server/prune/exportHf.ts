// A Hugging Face checkpoint of a (pruned) imported model directory (`moe-lens prune --out OUT --hf` writes it to
// OUT/hf): config.json = the source config with the new expert count, model.safetensors in the hub's per-expert layout
// (float32, or float16 when the model stores fp16), tokenizer.json. The graph's initializers already carry the hub's
// names; only the experts are laid out again: the op's fc1 [E, 2I, H] (gate and up rows interleaved, swiglu) back to
// gate/up [I, H] per expert, fc2 [E, H, I] to down [H, I] (Granite-MoE: back to its fused input/output_linear). test/model/prunedHf.test.ts checks it against transformers.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { SOURCE_CONFIG } from '../import/importCheckpoint';
import { elementBytes, PruneError, tensorBytes, type MoeGraph } from './moeGraph';

interface Entry {
  name: string;
  dtype: 'F32' | 'F16';
  shape: number[];
  bytes: Uint8Array;
}

/** The safetensors file: 8-byte little-endian header length, the JSON header, the tensor bytes (names sorted). */
export function safetensors(entries: Entry[]): Uint8Array {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : 1));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const e of sorted) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.byteLength] };
    offset += e.bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.byteLength), true);
  out.set(head, 8);
  let at = 8 + head.byteLength;
  for (const e of sorted) {
    out.set(e.bytes, at);
    at += e.bytes.byteLength;
  }
  return out;
}

export function exportHf(g: MoeGraph, out: string): void {
  const configFile = join(g.dir, SOURCE_CONFIG);
  if (!existsSync(configFile)) throw new PruneError(`${g.dir} has no ${SOURCE_CONFIG}: --hf needs a model imported by this version of moe-lens import (the embedded model has no Hugging Face architecture)`);
  // The count is replaced in the text: JSON.stringify would write 0.0 as 0, which transformers' strict config refuses.
  const source = readFileSync(configFile, 'utf8');
  const key = /"num_local_experts"\s*:/.test(source) ? 'num_local_experts' : 'num_experts';
  const pattern = new RegExp(`("${key}"\\s*:\\s*)\\d+`);
  if (!pattern.test(source)) throw new PruneError(`${configFile} has no ${key}`);
  const config = source.replace(pattern, `$1${g.manifest.experts}`);
  const expertTensors = new Set(g.layers.flatMap((l) => [l.fc1, l.fc2]));
  const entries: Entry[] = [];
  for (const t of g.model.graph!.initializer!) {
    const name = t.name!.replace(/\.fp16$/, '');
    if (!name.includes('.') || expertTensors.has(t.name!)) continue; // the builder's inline constants have no dots
    entries.push({ name, dtype: elementBytes(t) === 2 ? 'F16' : 'F32', shape: t.dims!.map(Number), bytes: tensorBytes(g.dir, t).slice() });
  }
  for (const layer of g.layers) {
    const router = layer.router.replace(/\.fp16$/, '');
    const fc1 = g.initializers.get(layer.fc1)!;
    const fc2 = g.initializers.get(layer.fc2)!;
    const [E, twoI, H] = fc1.dims!.map(Number);
    const I = Number(fc2.dims![2]);
    const size = elementBytes(fc1);
    const dtype = size === 2 ? 'F16' : 'F32';
    const gelu = twoI === I; // the gelu layout has no up projection
    if (gelu) throw new PruneError(`${g.dir}: a GELU expert layout has no Hugging Face architecture here`);
    const b1 = tensorBytes(g.dir, fc1);
    const b2 = tensorBytes(g.dir, fc2);
    const row = H * size;
    /** expert e's gate (even rows of fc1) or up (odd rows) projection, [I, H] */
    const half = (e: number, odd: 0 | 1) => {
      const out = new Uint8Array(I * row);
      for (let i = 0; i < I; i++) out.set(b1.subarray((e * twoI + 2 * i + odd) * row, (e * twoI + 2 * i + odd + 1) * row), i * row);
      return out;
    };
    if (router.endsWith('.router.layer.weight')) {
      // Granite-MoE keeps its experts fused (modeling_granitemoe.py GraniteMoeParallelExperts): input_linear [E, 2I, H]
      // = each expert's gate rows, then its up rows; output_linear [E, H, I], fc2 as it is.
      const moe = router.slice(0, -'.router.layer.weight'.length);
      const input = new Uint8Array(E * twoI * row);
      for (let e = 0; e < E; e++) {
        input.set(half(e, 0), e * twoI * row);
        input.set(half(e, 1), (e * twoI + I) * row);
      }
      entries.push({ name: `${moe}.input_linear.weight`, dtype, shape: [E, twoI, H], bytes: input });
      entries.push({ name: `${moe}.output_linear.weight`, dtype, shape: [E, H, I], bytes: b2.slice(0, E * H * I * size) });
      continue;
    }
    const moe = router.replace(/\.gate\.weight$/, '');
    const [gName, uName, dName] = moe.endsWith('block_sparse_moe') ? ['w1', 'w3', 'w2'] : ['gate_proj', 'up_proj', 'down_proj'];
    for (let e = 0; e < E; e++) {
      entries.push({ name: `${moe}.experts.${e}.${gName}.weight`, dtype, shape: [I, H], bytes: half(e, 0) });
      entries.push({ name: `${moe}.experts.${e}.${uName}.weight`, dtype, shape: [I, H], bytes: half(e, 1) });
      entries.push({ name: `${moe}.experts.${e}.${dName}.weight`, dtype, shape: [H, I], bytes: b2.slice(e * H * I * size, (e + 1) * H * I * size) });
    }
  }
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    writeFileSync(join(tmp, 'config.json'), config);
    writeFileSync(join(tmp, 'model.safetensors'), safetensors(entries));
    copyFileSync(join(g.dir, g.manifest.tokenizer), join(tmp, 'tokenizer.json'));
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}


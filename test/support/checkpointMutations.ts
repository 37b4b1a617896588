// Random hostile mutations of a valid checkpoint (issue 22's soak): one edit of config.json or of the safetensors
// header per import, drawn from a seeded PRNG so a failure can be replayed (`--seed`, the mutation's index). Values
// are the ones that broke importers before: negative, zero, huge, fractional, wrong types, deep or long JSON,
// offsets that overlap, names given twice, bytes flipped in the header, lengths that lie.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deepJson, readSafetensors, SHARD, tensorNames, writeSafetensors } from './hostileCheckpoints';

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

const HOSTILE_VALUES: readonly unknown[] = [
  -1, 0, 1, 2, 3, 7, 2 ** 31, 2 ** 32, 2 ** 53, 1e9, 1e6, 1.5, -1e-5, 1e308, -0, 'x', '', null, true, [], {}, [1, 2], { a: 1 },
  'A'.repeat(100000), '\u0000\u001b[31m\u202e', [...Array(5000).keys()],
];

/** A random value for a config field or a header field (a few are built fresh each time: deep JSON as text). */
function hostileValue(r: Rand): unknown {
  if (r() < 0.05) return JSON.parse(deepJson(40));
  return pick(r, HOSTILE_VALUES);
}

const CONFIG_KEYS = [
  'architectures', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'num_experts',
  'num_experts_per_tok', 'vocab_size', 'max_position_embeddings', 'rms_norm_eps', 'head_dim', 'rope_parameters', 'rope_theta', 'rope_scaling',
  'tie_word_embeddings', 'norm_topk_prob', 'clip_qkv', 'hidden_act', 'sliding_window', 'attention_bias', 'quantization_config',
];

/** Mutates `hf` (a copy of the OLMoE fixture) once; returns what was done, for the report of a failure. */
export function mutateCheckpoint(hf: string, r: Rand): string {
  return r() < 0.4 ? mutateConfig(hf, r) : mutateHeader(hf, r);
}

function mutateConfig(hf: string, r: Rand): string {
  const file = join(hf, 'config.json');
  const c = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const key = pick(r, CONFIG_KEYS);
  const roll = r();
  if (roll < 0.1) {
    delete c[key];
    writeFileSync(file, JSON.stringify(c));
    return `config.json: ${key} removed`;
  }
  if (roll < 0.15) {
    const text = JSON.stringify(c);
    const cut = Math.floor(r() * text.length);
    writeFileSync(file, text.slice(0, cut));
    return `config.json: truncated at ${cut}`;
  }
  const v = hostileValue(r);
  c[key] = v;
  writeFileSync(file, JSON.stringify(c));
  return `config.json: ${key} = ${describe(v)}`;
}

function mutateHeader(hf: string, r: Rand): string {
  const path = join(hf, SHARD);
  const st = readSafetensors(path);
  const names = tensorNames(st.header);
  const t = pick(r, names);
  const roll = r();
  if (roll < 0.1) {
    const b = readFileSync(path);
    const n = pick(r, [0n, 1n, 7n, 2n ** 32n, 2n ** 63n, 99_999_999n, 100_000_001n, BigInt(b.length)]);
    b.writeBigUInt64LE(n, 0);
    writeFileSync(path, b);
    return `header length = ${n}`;
  }
  if (roll < 0.2) {
    const text = Buffer.from(JSON.stringify(st.header));
    const at = Math.floor(r() * text.length);
    text[at] = Math.floor(r() * 256);
    writeSafetensors(path, text.toString('latin1'), st.data);
    return `header byte ${at} flipped`;
  }
  if (roll < 0.3) {
    const other = pick(r, names);
    st.header[t].data_offsets = [...st.header[other].data_offsets];
    writeSafetensors(path, st.header, st.data);
    return `${t}.data_offsets = ${other}'s`;
  }
  if (roll < 0.4) {
    const other = pick(r, names);
    writeSafetensors(path, `${JSON.stringify(st.header).slice(0, -1)},${JSON.stringify(t)}:${JSON.stringify(st.header[other])}}`, st.data);
    return `${t} listed twice`;
  }
  if (roll < 0.5) {
    const cut = Math.floor(r() * st.data.length);
    writeSafetensors(path, st.header, st.data.subarray(0, cut));
    return `data truncated at ${cut}`;
  }
  if (roll < 0.55) {
    delete st.header[t];
    writeSafetensors(path, st.header, st.data);
    return `${t} removed`;
  }
  const field = pick(r, ['dtype', 'shape', 'data_offsets'] as const);
  const v = r() < 0.5 ? hostileValue(r) : field === 'shape' ? [pick(r, [0, 1, 2 ** 31, 2 ** 53]), pick(r, [-1, 32, 1e9])] : field === 'dtype' ? pick(r, ['F64', 'I8', 'U8', 'F8_E4M3', 'bf16']) : [0, pick(r, [1, 2 ** 40, -5])];
  st.header[t][field] = v;
  writeSafetensors(path, st.header, st.data);
  return `${t}.${field} = ${describe(v)}`;
}

function describe(v: unknown): string {
  const s = typeof v === 'string' ? `string of ${v.length}` : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

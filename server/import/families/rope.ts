// The default rotary embedding or YaRN, read from rope_parameters (transformers 5) or rope_scaling (the hub's 4.x
// files, `type` instead of `rope_type`), for the families that may use either (gpt-oss, DeepSeek-V2/V3). The table
// is computed by graph/yarn.ts as transformers 5.18's modeling_rope_utils does it.
import { ImportError } from '../errors';
import { yarnTable, type RotaryTable, type YarnParams } from '../graph/yarn';
import { excerpt } from '../jsonText';
import { CONFIG, type Json } from './fields';

export interface RopeChoice {
  theta: number;
  table: RotaryTable;
  /** the YaRN parameters, or null for the default rotary embedding */
  yarn: YarnParams | null;
}

/**
 * `dim`: the rotated channels (head_dim; DeepSeek's qk_rope_head_dim). `family` names the model in refusals;
 * `theta` is the class default, `fallback` what the class uses when config.json names no rotary at all.
 */
export function defaultOrYarn(c: Json, dim: number, family: string, theta0: number, fallback: Json = {}): RopeChoice {
  const where = c.rope_parameters != null ? 'rope_parameters' : c.rope_scaling != null ? 'rope_scaling' : 'rope_parameters';
  const p = (c.rope_parameters ?? c.rope_scaling ?? fallback) as Json;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new ImportError('must be an object', CONFIG, where);
  const theta = p.rope_theta ?? c.rope_theta ?? theta0;
  if (typeof theta !== 'number' || !(theta > 0)) throw new ImportError(`must be a positive number, got ${excerpt(theta)}`, CONFIG, p.rope_theta != null ? `${where}.rope_theta` : 'rope_theta');
  const type = p.rope_type ?? p.type ?? 'default';
  if (p.partial_rotary_factor != null && p.partial_rotary_factor !== 1) throw new ImportError('partial rotary embeddings are not supported', CONFIG, `${where}.partial_rotary_factor`);
  if (type === 'default') return { theta, table: { invFreq: Array.from({ length: dim / 2 }, (_, i) => Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / dim)))), attentionScaling: 1 }, yarn: null };
  if (type !== 'yarn') throw new ImportError(`RoPE variant ${excerpt(type)} is not supported for ${family} (default or yarn)`, CONFIG, `${where}.rope_type`);
  const n = (k: string, dflt: number | null): number | null => {
    const v = p[k] ?? dflt;
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ImportError(`must be a number, got ${excerpt(v)}`, CONFIG, `${where}.${k}`);
    return v;
  };
  const factor = n('factor', null);
  const original = n('original_max_position_embeddings', null);
  if (factor === null || !(factor > 0)) throw new ImportError('must be a positive number', CONFIG, `${where}.factor`);
  if (original === null || !(original > 0)) throw new ImportError('must be a positive number', CONFIG, `${where}.original_max_position_embeddings`);
  // `or` as transformers has it (`get("beta_fast") or 32`): a 0 falls back too
  const yarn: YarnParams = { theta, factor, originalMaxPositions: original, betaFast: n('beta_fast', null) || 32, betaSlow: n('beta_slow', null) || 1, truncate: p.truncate !== false, attentionFactor: n('attention_factor', null), mscale: n('mscale', null), mscaleAllDim: n('mscale_all_dim', null) };
  return { theta, table: yarnTable(yarn, dim), yarn };
}

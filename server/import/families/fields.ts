// Typed readers for config.json fields, each refusal naming the field (shared by the family parsers in this folder).
import { ImportError } from '../errors';

export const CONFIG = 'config.json';
export type Json = Record<string, unknown>;

export interface Fields {
  int(key: string, dflt?: number): number;
  num(key: string, dflt?: number): number;
  bool(key: string, dflt: boolean): boolean;
}

export function fields(c: Json): Fields {
  return {
    int(key, dflt) {
      const v = c[key] ?? dflt;
      if (!Number.isInteger(v) || (v as number) < 0) throw new ImportError(v === undefined ? 'is missing' : `must be a non-negative integer, got ${JSON.stringify(v)}`, CONFIG, key);
      return v as number;
    },
    num(key, dflt) {
      const v = c[key] ?? dflt;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ImportError(v === undefined ? 'is missing' : `must be a number, got ${JSON.stringify(v)}`, CONFIG, key);
      return v;
    },
    bool(key, dflt) {
      const v = c[key] ?? dflt;
      if (typeof v !== 'boolean') throw new ImportError(`must be true or false, got ${JSON.stringify(v)}`, CONFIG, key);
      return v;
    },
  };
}

/** The number of routed experts: transformers 5 writes num_local_experts where some 4.x configs have num_experts. */
export function expertCount(c: Json, f: Fields): { experts: number; key: string } {
  const local = c.num_local_experts;
  const plain = c.num_experts;
  if (local != null && plain != null && local !== plain) throw new ImportError(`num_local_experts (${JSON.stringify(local)}) and num_experts (${JSON.stringify(plain)}) disagree`, CONFIG, 'num_local_experts');
  const key = local != null ? 'num_local_experts' : 'num_experts';
  return { experts: f.int(key), key };
}

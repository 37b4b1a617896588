// Typed readers for config.json fields, each refusal naming the field (shared by config.ts and the family parsers in
// this folder). An integer is checked against its maximum (bounds.ts) as it is read, so no family can size an array by
// 2^32 layers; a value is quoted only through excerpt() (a 100k-character string stays out of the message).
import { maximumFor } from '../bounds';
import { ImportError } from '../errors';
import { excerpt } from '../jsonText';

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
      if (!Number.isInteger(v) || (v as number) < 0) throw new ImportError(v === undefined ? 'is missing' : `must be a non-negative integer, got ${excerpt(v)}`, CONFIG, key);
      if ((v as number) > maximumFor(key)) throw new ImportError(`${v} is more than the ${maximumFor(key)} the importer accepts`, CONFIG, key);
      return v as number;
    },
    num(key, dflt) {
      const v = c[key] ?? dflt;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ImportError(v === undefined ? 'is missing' : `must be a number, got ${excerpt(v)}`, CONFIG, key);
      return v;
    },
    bool(key, dflt) {
      const v = c[key] ?? dflt;
      if (typeof v !== 'boolean') throw new ImportError(`must be true or false, got ${excerpt(v)}`, CONFIG, key);
      return v;
    },
  };
}

/** The number of routed experts: transformers 5 writes num_local_experts where some 4.x configs have num_experts. */
export function expertCount(c: Json, f: Fields): { experts: number; key: string } {
  const local = c.num_local_experts;
  const plain = c.num_experts;
  if (local != null && plain != null && local !== plain) throw new ImportError(`num_local_experts (${excerpt(local)}) and num_experts (${excerpt(plain)}) disagree`, CONFIG, 'num_local_experts');
  const key = local != null ? 'num_local_experts' : 'num_experts';
  return { experts: f.int(key), key };
}

// The engine-independent form of a routing trace: the token ids a serving engine saw and the expert ids it routed
// each token to. vllm.ts and sglang.ts parse their engine's response into it; traceRouting.ts turns it into a
// RoutingResult for a document. A remote-engine backend can build one from its HTTP answer the same way.

import type { EngineKind } from '../../common/protocol';

export type Engine = EngineKind;

export interface EngineTrace {
  engine: Engine;
  /** prompt token ids, then the generated ones when the trace has them */
  ids: number[];
  /** how many of `ids` are the prompt */
  promptTokens: number;
  layers: number;
  topK: number;
  /** [ids.length * layers * topK], token-major; -1 for every slot of a token whose routing was not recorded */
  experts: Int32Array;
}

/** A trace that cannot be used: the message names the field (and file, once the caller knows it). */
export class TraceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceError';
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A list of integers, or a TraceError naming the field. */
export function intList(v: unknown, field: string): number[] {
  if (!Array.isArray(v)) throw new TraceError(`${field} must be a list of token ids`);
  v.forEach((x, i) => {
    if (!Number.isInteger(x)) throw new TraceError(`${field}[${i}] must be an integer, not ${JSON.stringify(x)}`);
  });
  return v as number[];
}

/**
 * Writes nested routed experts [rows][L][K] into `out` from token `from` on. A row with a negative id is "not
 * recorded" (vLLM marks prefix-cached positions with -1): all its slots become -1. Returns L and K as found.
 */
export function copyNestedRows(v: unknown, field: string, out: { data: number[]; layers?: number; topK?: number }): number {
  if (!Array.isArray(v)) throw new TraceError(`${field} must be a list [tokens][layers][top-k] of expert ids`);
  for (let t = 0; t < v.length; t++) {
    const row = v[t];
    if (!Array.isArray(row)) throw new TraceError(`${field}[${t}] must be a list [layers][top-k]`);
    out.layers ??= row.length;
    if (row.length !== out.layers) throw new TraceError(`${field}[${t}] has ${row.length} layers, earlier tokens ${out.layers}`);
    const flat: number[] = [];
    for (let l = 0; l < row.length; l++) {
      const cell = row[l];
      if (!Array.isArray(cell)) throw new TraceError(`${field}[${t}][${l}] must be a list of top-k expert ids`);
      out.topK ??= cell.length;
      if (cell.length !== out.topK) throw new TraceError(`${field}[${t}][${l}] has ${cell.length} experts, earlier ${out.topK} (top-k)`);
      for (let k = 0; k < cell.length; k++) {
        if (!Number.isInteger(cell[k])) throw new TraceError(`${field}[${t}][${l}][${k}] must be an integer expert id, not ${JSON.stringify(cell[k])}`);
        flat.push(cell[k] as number);
      }
    }
    const recorded = flat.every((e) => e >= 0);
    for (const e of flat) out.data.push(recorded ? e : -1);
  }
  return v.length;
}

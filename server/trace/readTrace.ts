// Reads a trace file and tells the engines apart by their fields (vLLM: prompt_routed_experts / choices[].routed_experts;
// SGLang: meta_info.routed_experts). Errors name the file.
import { readFile } from 'node:fs/promises';
import { TraceError, type EngineTrace } from './engineTrace';
import { looksLikeSglang, parseSglangTrace } from './sglang';
import { looksLikeVllm, parseVllmTrace } from './vllm';

/** Parses a trace's JSON text; `shape` (the model's layers and top-k) reshapes SGLang's flat array. */
export function parseTrace(json: string, shape: { layers: number; topK: number }): EngineTrace {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new TraceError(`not JSON (${(e as Error).message})`);
  }
  if (looksLikeVllm(v)) return parseVllmTrace(v);
  if (looksLikeSglang(v)) return parseSglangTrace(v, shape);
  throw new TraceError('neither a vLLM response (prompt_routed_experts, choices[].routed_experts) nor an SGLang one (meta_info.routed_experts)');
}

export async function readTrace(path: string, shape: { layers: number; topK: number }): Promise<EngineTrace> {
  let json: string;
  try {
    json = await readFile(path, 'utf8');
  } catch (e) {
    throw new TraceError(`${path}: cannot read the trace (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return parseTrace(json, shape);
  } catch (e) {
    if (e instanceof TraceError) throw new TraceError(`${path}: ${e.message}`);
    throw e;
  }
}

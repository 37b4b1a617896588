// SGLang responses with routed experts. Server started with `--enable-return-routed-experts` and the request sent with
// `"return_routed_experts": true` (SGLang PR #12162, "return routed experts"; docs: basic_usage "Returning Routed
// Experts"): the /generate response's `meta_info.routed_experts` is a base64 string of little-endian int32 expert ids,
// flattened from shape [seqlen − 1, layers, top-k] — every token but the last (which was never fed back). The ids of
// the request are not in the response: a trace file holds the request's `input_ids` beside the response (top level,
// or `{ "request": { "input_ids" }, "response": { "meta_info", "output_ids"? } }`); `output_ids` (the generated ids,
// when saved) extend the sequence.
import { intList, isObject, TraceError, type EngineTrace } from './engineTrace';

export function looksLikeSglang(v: unknown): boolean {
  if (!isObject(v)) return false;
  const response = isObject(v.response) ? v.response : v;
  return isObject(response.meta_info) && 'routed_experts' in response.meta_info;
}

/** Little-endian int32 values of a base64 string. */
export function decodeInt32Base64(b64: string, field: string): Int32Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new TraceError(`${field} is not base64`);
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length % 4) throw new TraceError(`${field} holds ${bytes.length} bytes, not a whole number of int32 values`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = dv.getInt32(4 * i, true);
  return out;
}

/** The flat array has no shape of its own: layers and top-k come from the model it is shown with. */
export function parseSglangTrace(v: unknown, shape: { layers: number; topK: number }): EngineTrace {
  if (!isObject(v)) throw new TraceError('an SGLang trace must be a JSON object');
  const request = isObject(v.request) ? v.request : v;
  const response = isObject(v.response) ? v.response : v;
  const where = request === v ? '' : 'request.';
  if (request.input_ids == null) throw new TraceError(`${where}input_ids is missing: save the request's input_ids with the response`);
  const inputIds = intList(request.input_ids, `${where}input_ids`);
  const meta = response.meta_info;
  const field = `${response === v ? '' : 'response.'}meta_info.routed_experts`;
  if (!isObject(meta) || meta.routed_experts == null) throw new TraceError(`${field} is missing: start SGLang with --enable-return-routed-experts and send "return_routed_experts": true`);
  if (typeof meta.routed_experts !== 'string') throw new TraceError(`${field} must be a base64 string of int32 expert ids`);
  const flat = decodeInt32Base64(meta.routed_experts, field);
  const { layers: L, topK: K } = shape;
  if (flat.length % (L * K)) throw new TraceError(`${field} holds ${flat.length} expert ids, not a multiple of layers × top-k = ${L} × ${K} of the model: the trace is of another model`);
  const rows = flat.length / (L * K);
  const outputIds = response.output_ids == null ? [] : intList(response.output_ids, `${response === v ? '' : 'response.'}output_ids`);
  const ids = [...inputIds, ...outputIds];
  // [seqlen − 1] rows; without output_ids the rows past the prompt belong to generated tokens this file lacks.
  const completion = isObject(meta) && Number.isInteger(meta.completion_tokens) ? (meta.completion_tokens as number) : undefined;
  const expected = outputIds.length ? ids.length - 1 : completion !== undefined ? inputIds.length + completion - 1 : undefined;
  if (expected !== undefined ? rows !== expected : rows < inputIds.length - 1) {
    throw new TraceError(`${field} has ${rows} tokens × ${L} layers × ${K} experts, but the sequence has ${ids.length} tokens${outputIds.length ? '' : ` (+${completion ?? '?'} generated)`}: expected ${expected ?? `at least ${inputIds.length - 1}`} tokens (all but the last)`);
  }
  const experts = new Int32Array(ids.length * L * K).fill(-1);
  experts.set(flat.subarray(0, Math.min(flat.length, experts.length)));
  return { engine: 'sglang', ids, promptTokens: inputIds.length, layers: L, topK: K, experts };
}

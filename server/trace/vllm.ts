// vLLM responses with routed experts. Server started with `--enable-return-routed-experts` (vLLM PR #28284,
// "Support recording expert indices for rollout router replay"; engine arg `enable_return_routed_experts`); the
// OpenAI-compatible completion and chat responses then carry (vllm/entrypoints/openai/*/protocol.py):
//   - `prompt_routed_experts`: list[list[list[int]]] | None — per prompt token [layers][top-k] expert ids, on the
//     response (chat) — some clients store it on the choice, which is accepted too;
//   - `choices[i].routed_experts`: list[list[list[int]]] | None — the same for generated tokens; the last generated
//     token has no routing (it was never fed back), so it holds one row fewer than `token_ids`;
//   - `prompt_token_ids` (response for chat, `choices[i].prompt_token_ids` for completions) and `choices[i].token_ids`
//     — returned when the request asks for them (`return_token_ids: true`).
// A row with -1 ids is a position whose routing the engine did not record (a prefix-cache hit, issue #14): such a
// token is shown as "not recorded".
// Later vLLM versions (vllm/entrypoints/openai/completion/protocol.py, CompletionResponseChoice.routed_experts) send
// one `choices[i].routed_experts` for the whole sequence instead: a base64 .npy string (numpy2base64) of shape
// (num_tokens − 1, layers, top-k) over the prompt and generated tokens, with `prompt_token_ids` and `token_ids` on the
// choice; there is no prompt_routed_experts then. Both forms are read.
import { copyNestedRows, intList, isObject, TraceError, type EngineTrace } from './engineTrace';
import { readNpy } from './npy';

/** Whether a parsed JSON value looks like a vLLM response with routed experts. */
export function looksLikeVllm(v: unknown): boolean {
  return isObject(v) && ('prompt_routed_experts' in v || (Array.isArray(v.choices) && isObject(v.choices[0]) && ('routed_experts' in v.choices[0] || 'prompt_routed_experts' in v.choices[0])));
}

export function parseVllmTrace(v: unknown): EngineTrace {
  if (!isObject(v)) throw new TraceError('a vLLM trace must be a JSON object (the completion or chat response)');
  const choice = Array.isArray(v.choices) && isObject(v.choices[0]) ? v.choices[0] : undefined;
  const promptIdsRaw = v.prompt_token_ids ?? choice?.prompt_token_ids;
  if (promptIdsRaw == null) throw new TraceError('prompt_token_ids is missing: send the request with "return_token_ids": true');
  const promptIds = intList(promptIdsRaw, v.prompt_token_ids != null ? 'prompt_token_ids' : 'choices[0].prompt_token_ids');
  const promptField = v.prompt_routed_experts != null ? 'prompt_routed_experts' : 'choices[0].prompt_routed_experts';
  const promptRows = v.prompt_routed_experts ?? choice?.prompt_routed_experts;
  if (promptRows == null && typeof choice?.routed_experts === 'string') return parseNpyForm(promptIds, choice);
  if (promptRows == null) throw new TraceError('prompt_routed_experts is missing or null: start vLLM with --enable-return-routed-experts');
  if (typeof promptRows === 'string') throw new TraceError(`${promptField} must be a list [tokens][layers][top-k] of expert ids`);
  const out: { data: number[]; layers?: number; topK?: number } = { data: [] };
  const n = copyNestedRows(promptRows, promptField, out);
  if (n !== promptIds.length) throw new TraceError(`${promptField} has ${n} tokens, prompt_token_ids ${promptIds.length}`);
  const genIds = choice?.token_ids == null ? [] : intList(choice.token_ids, 'choices[0].token_ids');
  if (genIds.length && choice?.routed_experts != null) {
    const g = copyNestedRows(choice.routed_experts, 'choices[0].routed_experts', out);
    if (g !== genIds.length - 1 && g !== genIds.length) throw new TraceError(`choices[0].routed_experts has ${g} tokens for ${genIds.length} generated tokens (expected ${genIds.length - 1})`);
  }
  if (out.layers === undefined || out.topK === undefined) throw new TraceError('prompt_routed_experts is empty');
  const ids = [...promptIds, ...genIds];
  const experts = new Int32Array(ids.length * out.layers * out.topK).fill(-1);
  experts.set(out.data.slice(0, experts.length));
  return { engine: 'vllm', ids, promptTokens: promptIds.length, layers: out.layers, topK: out.topK, experts };
}

/** The newer form: one base64 .npy array (num_tokens − 1, L, K) on the choice for prompt and generated tokens. */
function parseNpyForm(promptIds: number[], choice: Record<string, unknown>): EngineTrace {
  const field = 'choices[0].routed_experts';
  const b64 = choice.routed_experts as string;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new TraceError(`${field} is not base64`);
  const { shape, data } = readNpy(new Uint8Array(Buffer.from(b64, 'base64')), field);
  if (shape.length !== 3) throw new TraceError(`${field} has shape (${shape.join(', ')}), expected (tokens − 1, layers, top-k)`);
  const [rows, layers, topK] = shape;
  const genIds = choice.token_ids == null ? [] : intList(choice.token_ids, 'choices[0].token_ids');
  const ids = [...promptIds, ...genIds];
  if (rows !== ids.length - 1 && rows !== ids.length) throw new TraceError(`${field} has ${rows} tokens, the sequence ${ids.length} (prompt ${promptIds.length} + generated ${genIds.length}): expected ${ids.length - 1}`);
  const experts = new Int32Array(ids.length * layers * topK).fill(-1);
  experts.set(data.subarray(0, experts.length));
  return { engine: 'vllm', ids, promptTokens: promptIds.length, layers, topK, experts };
}

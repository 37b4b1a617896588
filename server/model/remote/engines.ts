// What each serving engine is sent and what it answers, for routing one prompt with one new token. Every field is
// cited; the test server (test/lsp/remoteBackend.test.ts) answers in exactly these formats.
import { ENGINE_NAMES, type EngineKind } from '../../../common/backends';
import { intList, TraceError, type EngineTrace } from '../../trace/engineTrace';
import { parseSglangTrace } from '../../trace/sglang';
import { parseVllmTrace } from '../../trace/vllm';

export type { EngineKind };

export interface TokenizeAnswer {
  ids: number[];
  /** the vocabulary string of each token, when the engine returns them */
  pieces?: string[];
  /** the engine's context length, when it says */
  maxModelLen?: number;
}

export interface EngineProtocol {
  kind: EngineKind;
  /** for messages: "vLLM", "SGLang" */
  name: string;
  routePath: string;
  routeBody(ids: readonly number[], model: string): unknown;
  /**
   * The answer as an engine trace (server/trace: the same parsers as trace files) over the `prompt` that was sent;
   * `shape` from the model config where the answer does not carry it.
   */
  parseRouting(answer: unknown, prompt: readonly number[], shape?: { layers: number; topK: number }): EngineTrace;
  tokenizePath: string;
  tokenizeBody(text: string, model: string): unknown;
  parseTokenize(answer: unknown): TokenizeAnswer;
  /** what the user must change when the engine returns no routing */
  enableHint: string;
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/**
 * vLLM, started with `--enable-return-routed-experts` (PR vllm-project/vllm#28284).
 * - POST /v1/completions, `CompletionRequest` (vllm/entrypoints/openai/completion/protocol.py): `model`, `prompt`
 *   (a list of token ids is accepted: `list[int]`), `max_tokens` (1: one new token), `temperature` 0, and
 *   `return_token_ids` (the response then carries `prompt_token_ids`, checked against what was sent).
 * - Routing, in the two shapes vLLM has shipped:
 *   - response-level `prompt_routed_experts`: `list[list[list[int]]]`, [prompt tokens][layers][topK] (PR #28284;
 *     `-1` marks prefix-cached positions the engine did not recompute, issue 14);
 *   - `choices[0].routed_experts` as a string: base64 of `.npy` bytes, shape (num_tokens − 1, layers, topK),
 *     dtype uint8/uint16/int32, over prompt and generated tokens (CompletionResponseChoice in vLLM main). The list
 *     form of `choices[].routed_experts` (PR #28284) covers generated tokens only and is not used here.
 * - POST /tokenize, `TokenizeCompletionRequest` (vllm/entrypoints/serve/tokenize/protocol.py): `model`, `prompt`,
 *   `add_special_tokens` (false: the document's own tokens), `return_token_strs` → `TokenizeResponse`: `tokens`,
 *   `token_strs`, `count`, `max_model_len`.
 */
export const vllm: EngineProtocol = {
  kind: 'vllm',
  name: ENGINE_NAMES.vllm,
  routePath: '/v1/completions',
  routeBody: (prompt, model) => ({ ...(model ? { model } : {}), prompt, max_tokens: 1, temperature: 0, return_token_ids: true }),
  parseRouting(answer, prompt) {
    // Both forms (the list and vLLM main's base64 .npy) are read by the trace-file parser.
    const trace = parseVllmTrace(answer);
    const echoed = trace.ids.slice(0, trace.promptTokens);
    if (trace.promptTokens !== prompt.length || echoed.some((id, i) => id !== prompt[i])) {
      throw new TraceError(`vLLM echoed ${trace.promptTokens} prompt tokens that differ from the ${prompt.length} sent`);
    }
    return trace;
  },
  tokenizePath: '/tokenize',
  tokenizeBody: (prompt, model) => ({ ...(model ? { model } : {}), prompt, add_special_tokens: false, return_token_strs: true }),
  parseTokenize(answer) {
    const a = obj(answer);
    const tokens = intList(a.tokens, 'tokens');
    const strs = a.token_strs;
    const pieces = Array.isArray(strs) && strs.length === tokens.length && strs.every((s) => typeof s === 'string') ? (strs as string[]) : undefined;
    const max = Number.isInteger(a.max_model_len) ? (a.max_model_len as number) : undefined;
    return { ids: tokens, pieces, maxModelLen: max };
  },
  enableHint: 'start vLLM with --enable-return-routed-experts',
};

/**
 * SGLang, started with `--enable-return-routed-experts` (PR sgl-project/sglang#12162, #17434).
 * - POST /generate (native API, docs "SGLang Native APIs"): `input_ids`, `sampling_params.max_new_tokens` 1,
 *   `sampling_params.temperature` 0, and the request flag `return_routed_experts: true` (PR #12162).
 * - Routing: `meta_info.routed_experts`, base64 of little-endian int32 in C order, logical shape
 *   (all tokens − 1, layers · topK): with one new token, exactly the prompt's rows. The answer does not carry layers
 *   and topK: they come from the served model's config.json. (/v1/completions carries the same under `sgl_ext`;
 *   the native endpoint is used here.)
 * - POST /tokenize: `prompt`, `add_special_tokens` → `tokens`, `count`, `max_model_len`; it returns no token
 *   strings, so offsets need a local tokenizer.json.
 */
export const sglang: EngineProtocol = {
  kind: 'sglang',
  name: ENGINE_NAMES.sglang,
  routePath: '/generate',
  routeBody: (input, model) => ({ ...(model ? { model } : {}), input_ids: input, sampling_params: { max_new_tokens: 1, temperature: 0 }, return_routed_experts: true }),
  parseRouting(answer, prompt, shape) {
    if (!shape) throw new TraceError("SGLang returns routed experts without their shape: the served model's config.json (num_hidden_layers, num_experts_per_tok) is needed");
    // The answer does not repeat the request's input_ids: the trace parser takes them beside the response.
    return parseSglangTrace({ request: { input_ids: [...prompt] }, response: answer }, shape);
  },
  tokenizePath: '/tokenize',
  tokenizeBody: (prompt, model) => ({ ...(model ? { model } : {}), prompt, add_special_tokens: false }),
  parseTokenize(answer) {
    const a = obj(answer);
    return { ids: intList(a.tokens, 'tokens'), maxModelLen: Number.isInteger(a.max_model_len) ? (a.max_model_len as number) : undefined };
  },
  enableHint: 'start SGLang with --enable-return-routed-experts',
};

export const engines: Record<EngineKind, EngineProtocol> = { vllm, sglang };

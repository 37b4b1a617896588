// An engine trace over a document's text -> the RoutingResult every view reads. Pure: the caller tokenises the text
// with the selected model's tokenizer and passes ids and offsets. The trace must be of this text and this model:
// token ids must match one for one, and its layer and top-k counts and expert ids must fit the model.
import type { ModelInfo, RoutingResult } from '../../common/protocol';
import { tokenSlots } from '../../common/routingLayout';
import { TraceError, type EngineTrace } from './engineTrace';

/** Gate weights, router entropy and surprisal: engines record expert ids only. */
export const TRACE_ABSENT: NonNullable<RoutingResult['absent']> = ['weights', 'entropy', 'surprisal'];

/**
 * The routing of a text from a trace. `enc` is the model tokenizer's encoding of the text; it must equal the trace's
 * prompt ids, or its prompt and generated ids (a file that holds the completion too).
 */
export function traceRouting(trace: EngineTrace, enc: { ids: readonly number[]; offsets: readonly number[] }, model: ModelInfo, opts: { file: string; version: number }): RoutingResult {
  const { layers: L, experts: E, topK: K } = model;
  if (trace.layers !== L) throw new TraceError(`the trace routes ${trace.layers} layers, the model ${model.name} has ${L}: it was recorded with another model`);
  if (trace.topK !== K) throw new TraceError(`the trace has ${trace.topK} experts per token (top-k), the model ${model.name} ${K}: it was recorded with another model`);
  const T = enc.ids.length;
  const n = Math.min(T, trace.ids.length);
  for (let t = 0; t < n; t++) {
    if (enc.ids[t] !== trace.ids[t]) throw new TraceError(`token ${t} differs: the trace has id ${trace.ids[t]}, the model's tokenizer gives ${enc.ids[t]} for the text (the trace was recorded on another text or with another tokenizer)`);
  }
  if (T !== trace.promptTokens && T !== trace.ids.length) {
    throw new TraceError(`the text has ${T} tokens, the trace ${trace.promptTokens} prompt tokens${trace.ids.length > trace.promptTokens ? ` (${trace.ids.length} with the generated ones)` : ''}: they must be the same text`);
  }
  const experts = new Array<number>(T * L * K);
  const notRecorded: number[] = [];
  for (let t = 0; t < T; t++) {
    // an engine trace is token-major like a RoutingResult: token t's L × K ids are one block in both
    const [from, to] = tokenSlots(model, t);
    const row = trace.experts.subarray(from, to);
    const recorded = row.every((e) => e >= 0);
    if (!recorded) notRecorded.push(t);
    for (let i = 0; i < row.length; i++) {
      const e = row[i];
      if (e >= E) throw new TraceError(`token ${t}, layer ${Math.floor(i / K)}: expert id ${e}, but the model ${model.name} has ${E} experts: the trace is of another model`);
      experts[from + i] = recorded ? e : 0; // placeholder: notRecorded says these are not routing
    }
  }
  return {
    model,
    version: opts.version,
    tokens: T,
    offsets: enc.offsets.slice(0, 2 * T),
    ids: enc.ids.slice(0, T),
    experts,
    weights: new Array<number>(T * L * K).fill(0),
    entropy: new Array<number>(T * L).fill(0),
    surprisal: new Array<number>(T).fill(0),
    steered: false,
    windows: 1,
    truncated: false,
    elapsedMs: 0,
    source: { kind: 'trace', engine: trace.engine, file: opts.file },
    absent: [...TRACE_ABSENT],
    notRecorded,
  };
}

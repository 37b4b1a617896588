import assert from 'node:assert/strict';
import type { ModelInfo } from '../../common/protocol';
import { hoverMarkdown } from '../../server/lsp/hoverMarkdown';
import { TraceError } from '../../server/trace/engineTrace';
import { parseTrace } from '../../server/trace/readTrace';
import { decodeInt32Base64, parseSglangTrace } from '../../server/trace/sglang';
import { traceRouting } from '../../server/trace/traceRouting';
import { parseVllmTrace } from '../../server/trace/vllm';

const model: ModelInfo = { name: 'm', layers: 2, experts: 4, topK: 2, executionProvider: 'cpu', contextLength: 16, vocabSize: 100 };
// three prompt tokens [T][L][K]
const rows = [
  [[0, 1], [2, 3]],
  [[1, 2], [3, 0]],
  [[3, 2], [1, 0]],
];
const b64 = (xs: number[]) => Buffer.from(Int32Array.from(xs).buffer).toString('base64');
const enc = { ids: [10, 11, 12], offsets: [0, 1, 1, 2, 2, 3] };

/** .npy bytes as NumPy writes them (format 1.0, C order), base64: the newer vLLM's routed_experts. */
function npy(descr: string, shape: number[], values: number[]): string {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  header += `${' '.repeat(63 - ((10 + header.length) % 64))}\n`;
  const size = descr.endsWith('1') ? 1 : descr.endsWith('2') ? 2 : 4;
  const body = Buffer.alloc(values.length * size);
  values.forEach((v, i) => (size === 1 ? body.writeUInt8(v, i) : size === 2 ? body.writeInt16LE(v, 2 * i) : body.writeInt32LE(v, 4 * i)));
  const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]).toString('base64');
}

describe('engine traces: vLLM and SGLang parsers, trace -> routing', () => {
  it('vLLM: prompt_routed_experts with prompt_token_ids, generated tokens one row short', () => {
    const t = parseVllmTrace({ prompt_token_ids: [10, 11, 12], prompt_routed_experts: rows, choices: [{ token_ids: [13, 14], routed_experts: [[[0, 3], [1, 2]]] }] });
    assert.equal(t.engine, 'vllm');
    assert.deepEqual(t.ids, [10, 11, 12, 13, 14]);
    assert.equal(t.promptTokens, 3);
    assert.deepEqual([t.layers, t.topK], [2, 2]);
    assert.deepEqual([...t.experts.subarray(0, 4)], [0, 1, 2, 3]);
    assert.deepEqual([...t.experts.subarray(12, 16)], [0, 3, 1, 2]);
    assert.deepEqual([...t.experts.subarray(16)], [-1, -1, -1, -1]); // the last generated token: no routing
    // completions put prompt_token_ids on the choice
    assert.deepEqual(parseVllmTrace({ prompt_routed_experts: rows, choices: [{ prompt_token_ids: [10, 11, 12] }] }).ids, [10, 11, 12]);
  });

  it('newer vLLM: one base64 .npy (num_tokens − 1, L, K) on the choice for prompt and generated tokens', () => {
    for (const descr of ['|u1', '<u2', '<i4']) {
      const t = parseVllmTrace({ choices: [{ prompt_token_ids: [10, 11, 12], token_ids: [13], routed_experts: npy(descr, [3, 2, 2], rows.flat(2)) }] });
      assert.deepEqual(t.ids, [10, 11, 12, 13]);
      assert.equal(t.promptTokens, 3);
      assert.deepEqual([t.layers, t.topK], [2, 2]);
      assert.deepEqual([...t.experts.subarray(0, 12)], rows.flat(2), descr);
      assert.deepEqual([...t.experts.subarray(12)], [-1, -1, -1, -1]);
    }
  });

  it('SGLang: base64 little-endian int32 [seqlen − 1, L, K] with the request input_ids', () => {
    assert.deepEqual([...decodeInt32Base64(b64([1, -1, 70000]), 'f')], [1, -1, 70000]);
    const flat = rows.flat(2);
    const t = parseSglangTrace({ request: { input_ids: [10, 11, 12] }, response: { output_ids: [13], meta_info: { routed_experts: b64(flat), completion_tokens: 1 } } }, model);
    assert.equal(t.engine, 'sglang');
    assert.deepEqual(t.ids, [10, 11, 12, 13]);
    assert.deepEqual([...t.experts.subarray(0, 12)], flat);
    // without output_ids, completion_tokens says how many rows belong to generated tokens
    const u = parseSglangTrace({ input_ids: [10, 11], meta_info: { routed_experts: b64(flat), completion_tokens: 2 } }, model);
    assert.deepEqual(u.ids, [10, 11]);
  });

  it('the same routing from either engine; the engine is told apart by its fields', () => {
    const v = parseTrace(JSON.stringify({ prompt_token_ids: [10, 11, 12], prompt_routed_experts: rows }), model);
    const s = parseTrace(JSON.stringify({ input_ids: [10, 11, 12], output_ids: [13], meta_info: { routed_experts: b64(rows.flat(2)) } }), model);
    const rv = traceRouting(v, enc, model, { file: 'v.json', version: 1 });
    const rs = traceRouting(s, enc, model, { file: 's.json', version: 1 });
    assert.deepEqual(rv.experts, rs.experts);
    assert.deepEqual(rv.experts, rows.flat(2));
    assert.deepEqual(rv.absent, ['weights', 'entropy', 'surprisal']);
    assert.deepEqual(rv.source, { kind: 'trace', engine: 'vllm', file: 'v.json' });
    assert.equal(rs.source?.engine, 'sglang');
  });

  it('-1 rows (prefix-cached positions) are "not recorded", their experts placeholders', () => {
    const cached = [rows[0].map((c) => c.map(() => -1)), rows[1], rows[2]];
    const r = traceRouting(parseVllmTrace({ prompt_token_ids: [10, 11, 12], prompt_routed_experts: cached }), enc, model, { file: 'v', version: 0 });
    assert.deepEqual(r.notRecorded, [0]);
    assert.deepEqual(r.experts.slice(0, 4), [0, 0, 0, 0]);
    assert.deepEqual(r.experts.slice(4), rows.slice(1).flat(2));
  });

  it('refuses with messages naming the field or position', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => parseTrace('{', model), /not JSON/],
      [() => parseTrace('{"choices":[]}', model), /neither a vLLM response .* nor an SGLang one/],
      [() => parseVllmTrace({ prompt_routed_experts: rows, choices: [{}] }), /prompt_token_ids is missing: send the request with "return_token_ids": true/],
      [() => parseVllmTrace({ prompt_token_ids: [1, 2, 3], prompt_routed_experts: null }), /prompt_routed_experts is missing or null: start vLLM with --enable-return-routed-experts/],
      [() => parseVllmTrace({ prompt_token_ids: [1, 2], prompt_routed_experts: rows }), /prompt_routed_experts has 3 tokens, prompt_token_ids 2/],
      [() => parseVllmTrace({ prompt_token_ids: [1, 2, 3], prompt_routed_experts: [rows[0], [[1, 2]], rows[2]] }), /prompt_routed_experts\[1\] has 1 layers, earlier tokens 2/],
      [() => parseVllmTrace({ prompt_token_ids: [1, 2, 3], prompt_routed_experts: [rows[0], [[1, 2], [3]], rows[2]] }), /prompt_routed_experts\[1\]\[1\] has 1 experts, earlier 2/],
      [() => parseVllmTrace({ prompt_token_ids: [1, 2, 3], prompt_routed_experts: [rows[0], [[1, 2], [3, 'x']], rows[2]] }), /prompt_routed_experts\[1\]\[1\]\[1\] must be an integer/],
      [() => parseVllmTrace({ prompt_token_ids: [1, 2.5], prompt_routed_experts: rows }), /prompt_token_ids\[1\] must be an integer/],
      [() => parseVllmTrace({ prompt_token_ids: [1], prompt_routed_experts: 'k05VTVBZ' }), /prompt_routed_experts must be a list \[tokens\]\[layers\]\[top-k\]/],
      [() => parseVllmTrace({ choices: [{ prompt_token_ids: [1, 2], routed_experts: 'AAAA' }] }), /choices\[0\]\.routed_experts is not a \.npy array/],
      [() => parseVllmTrace({ choices: [{ prompt_token_ids: [1, 2, 3, 4, 5], routed_experts: npy('<i4', [3, 2, 2], rows.flat(2)) }] }), /has 3 tokens, the sequence 5 \(prompt 5 \+ generated 0\): expected 4/],
      [() => parseVllmTrace({ choices: [{ prompt_token_ids: [1, 2, 3, 4], routed_experts: npy('<f4', [3, 2, 2], rows.flat(2)) }] }), /\.npy dtype <f4 is not an integer type/],
      [() => parseVllmTrace({ choices: [{ prompt_token_ids: [1, 2, 3, 4], routed_experts: npy('|u1', [3, 2, 3], rows.flat(2)) }] }), /needs 18 bytes of \|u1, it holds 12/],
      [() => parseSglangTrace({ meta_info: { routed_experts: b64([1]) } }, model), /input_ids is missing/],
      [() => parseSglangTrace({ input_ids: [1, 2, 3], meta_info: { routed_experts: b64([1, 2, 3]) } }, model), /holds 3 expert ids, not a multiple of layers × top-k = 2 × 2/],
      [() => parseSglangTrace({ input_ids: [1, 2, 3], meta_info: { routed_experts: 'abc' } }, model), /not a whole number of int32 values/],
      [() => parseSglangTrace({ input_ids: [1, 2, 3], meta_info: { routed_experts: '***' } }, model), /is not base64/],
      [() => parseSglangTrace({ input_ids: [1, 2, 3], output_ids: [4, 5], meta_info: { routed_experts: b64(rows.flat(2)) } }, model), /has 3 tokens × 2 layers × 2 experts, but the sequence has 5 tokens: expected 4/],
    ];
    for (const [f, re] of cases) assert.throws(f, (e: unknown) => e instanceof TraceError && re.test(e.message), String(re));
  });

  it('refuses a trace of another text or another model', () => {
    const t = parseVllmTrace({ prompt_token_ids: [10, 11, 12], prompt_routed_experts: rows });
    const cases: [() => unknown, RegExp][] = [
      [() => traceRouting(t, { ids: [10, 99, 12], offsets: enc.offsets }, model, { file: 'f', version: 0 }), /token 1 differs: the trace has id 11, the model's tokenizer gives 99/],
      [() => traceRouting(t, { ids: [10, 11], offsets: enc.offsets.slice(0, 4) }, model, { file: 'f', version: 0 }), /the text has 2 tokens, the trace 3 prompt tokens/],
      [() => traceRouting(t, enc, { ...model, layers: 3 }, { file: 'f', version: 0 }), /the trace routes 2 layers, the model m has 3/],
      [() => traceRouting(t, enc, { ...model, topK: 1 }, { file: 'f', version: 0 }), /2 experts per token \(top-k\), the model m 1/],
      [() => traceRouting(t, enc, { ...model, experts: 3 }, { file: 'f', version: 0 }), /token 0, layer 1: expert id 3, but the model m has 3 experts/],
    ];
    for (const [f, re] of cases) assert.throws(f, (e: unknown) => e instanceof TraceError && re.test(e.message), String(re));
  });

  it('hover markdown of a trace: "not in the trace" for weights, entropy and surprisal; "not recorded" tokens', () => {
    const cached = [rows[0].map((c) => c.map(() => -1)), rows[1], rows[2]];
    const r = traceRouting(parseVllmTrace({ prompt_token_ids: [10, 11, 12], prompt_routed_experts: cached }), enc, model, { file: '/runs/a_b.json', version: 0 });
    const md = hoverMarkdown(r, 1, 'x');
    assert.match(md, /surprisal not in the trace/);
    assert.match(md, /\(vLLM trace a\\_b\\\.json\)/);
    assert.match(md, /\| 0 \| E1, E2 \| not in the trace \|/);
    assert.match(md, /\| 1 \| E3, E0 \| not in the trace \|/);
    assert.doesNotMatch(md, /0\.00|bits/);
    assert.match(hoverMarkdown(r, 0, 'x'), /Routing \*\*not recorded\*\*/);
    assert.doesNotMatch(hoverMarkdown(r, 0, 'x'), /\| 0 \|/);
  });
});

// Builds the engine-trace fixtures of test/fixtures/traces/ from the embedded model's own routing of sample.py:
// token ids from its tokenizer and expert ids from its analysis (`moe-lens route --json`), written in the response
// formats of vLLM (PR #28284: prompt_token_ids, prompt_routed_experts [T][L][K], choices[].routed_experts) and
// SGLang (PR #12162: meta_info.routed_experts, base64 little-endian int32 [seqlen − 1, L, K], beside the request's
// input_ids). Run after `node esbuild.mjs`: node tools/traces/makeTraceFixtures.mjs
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join('test', 'fixtures', 'traces');
const r = JSON.parse(execFileSync(process.execPath, [join('dist', 'cli.js'), 'route', join(dir, 'sample.py'), '--json', '--provider', 'cpu'], { encoding: 'utf8' }));
const { layers: L, topK: K, name } = r.model;
const rows = Array.from({ length: r.tokens }, (_, t) => Array.from({ length: L }, (_, l) => r.experts.slice((t * L + l) * K, (t * L + l + 1) * K)));
// One generated token (max_tokens 1): its id is the engine's choice and not part of sample.py, so any id serves; it
// has no routing of its own (it was never fed back), hence routed_experts [] and SGLang's seqlen − 1 rows.
const generated = r.ids[r.ids.length - 1];

const vllm = (promptRows) => ({
  id: 'cmpl-fixture',
  object: 'text_completion',
  created: 0,
  model: name,
  choices: [{ index: 0, text: '\n', finish_reason: 'length', prompt_token_ids: r.ids, token_ids: [generated], routed_experts: [] }],
  usage: { prompt_tokens: r.tokens, completion_tokens: 1, total_tokens: r.tokens + 1 },
  prompt_routed_experts: promptRows,
});
writeFileSync(join(dir, 'vllm.json'), `${JSON.stringify(vllm(rows))}\n`);
// A prefix-cache hit of the first 16 tokens (one KV block): those positions come back as -1.
const cached = rows.map((row, t) => (t < 16 ? row.map((cell) => cell.map(() => -1)) : row));
writeFileSync(join(dir, 'vllm-prefix-cached.json'), `${JSON.stringify(vllm(cached))}\n`);

// Newer vLLM: no prompt_routed_experts; the choice's routed_experts is base64 .npy bytes, shape (num_tokens − 1, L, K)
// over prompt and generated tokens, uint8 while the experts fit (vllm/entrypoints/openai/completion/protocol.py).
function npy(values, shape) {
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n'; // data starts on a 64-byte boundary, as NumPy writes it
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(Uint8Array.from(values))]);
}
const newer = vllm(null);
delete newer.prompt_routed_experts;
newer.choices[0].routed_experts = npy(rows.flat(2), [r.tokens, L, K]).toString('base64');
writeFileSync(join(dir, 'vllm-npy.json'), `${JSON.stringify(newer)}\n`);

const flat = Int32Array.from(rows.flat(2));
const b64 = Buffer.from(flat.buffer).toString('base64'); // little-endian on every machine Node runs on here
const sglang = {
  request: { input_ids: r.ids, sampling_params: { max_new_tokens: 1, temperature: 0 }, return_routed_experts: true },
  response: { text: '\n', output_ids: [generated], meta_info: { id: 'fixture', prompt_tokens: r.tokens, completion_tokens: 1, routed_experts: b64 } },
};
writeFileSync(join(dir, 'sglang.json'), `${JSON.stringify(sglang, null, 1)}\n`);
console.log(`wrote ${dir}: ${r.tokens} tokens, ${L} layers, top-${K}`);

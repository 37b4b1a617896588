// Pure parts of the remote-engine backend: token strings → UTF-16 offsets (vLLM's /tokenize), backoff, and each
// engine's request and answer shapes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { engines } from '../../server/model/remote/engines';
import { backoffDelay, networkReason } from '../../server/model/remote/http';
import { offsetsFromPieces } from '../../server/model/remote/tokenPieces';
import { MoeTokenizer } from '../../server/model/tokenizer';
import { embeddedModel, repoRoot } from '../support/paths';

/** Each id's vocabulary string: what vLLM's /tokenize returns as token_strs (convert_ids_to_tokens). */
function piecesOf(file: string): (ids: number[]) => string[] {
  const json = JSON.parse(readFileSync(file, 'utf8')) as { model: { vocab: Record<string, number> }; added_tokens?: { id: number; content: string }[] };
  const byId: string[] = [];
  for (const [p, id] of Object.entries(json.model.vocab)) byId[id] = p;
  for (const a of json.added_tokens ?? []) byId[a.id] = a.content;
  return (ids) => ids.map((i) => byId[i]);
}

describe('remote engine: offsets from /tokenize token strings', () => {
  const texts = ['def f(x):\r\n\treturn x  # 😀 naïve 世界\n', 'a b', ' leading and trailing ', 'e\u0301\u0301 combining'];

  it('byte-level BPE pieces (the embedded tokenizer): the same offsets as the local tokenizer', async () => {
    const file = join(embeddedModel, 'tokenizer.json');
    const local = await MoeTokenizer.fromFile(file);
    const pieces = piecesOf(file);
    for (const text of texts) {
      const enc = local.encode(text);
      const got = offsetsFromPieces(text, pieces(enc.ids));
      assert.ok('offsets' in got, `${JSON.stringify(text)}: ${'error' in got ? got.error : ''}`);
      assert.deepEqual(got.offsets, enc.offsets, JSON.stringify(text));
    }
  });

  it('SentencePiece pieces (the Llama-2 tokenizer Mixtral uses): "▁" spaces, <0x..> byte fallback, the added prefix space', () => {
    const file = join(repoRoot, 'node_modules', '@lenml', 'tokenizer-llama2', 'models', 'tokenizer.json');
    const tok = new Tokenizer(JSON.parse(readFileSync(file, 'utf8')), {});
    const pieces = piecesOf(file);
    for (const text of ['Hello world', 'tab\there 😀 ok', 'x\n\ny']) {
      const ids = tok.encode(text, { add_special_tokens: false }).ids;
      const got = offsetsFromPieces(text, pieces(ids));
      assert.ok('offsets' in got, `${JSON.stringify(text)}: ${'error' in got ? got.error : ''}`);
      const o = got.offsets;
      // ordered, contiguous, covering the text
      assert.equal(o[0], 0);
      assert.equal(o[o.length - 1], text.length);
      for (let t = 1; t < ids.length; t++) assert.equal(o[2 * t], o[2 * t - 1]);
      // each whole-word piece covers exactly its text (the first without the prefix space the tokenizer added)
      pieces(ids).forEach((p, t) => {
        if (/^<0x/.test(p)) return;
        const want = p.replace(/▁/g, ' ');
        assert.equal(text.slice(o[2 * t], o[2 * t + 1]), t === 0 && !text.startsWith(' ') ? want.replace(/^ /, '') : want);
      });
    }
  });

  it('pieces that do not spell the text are an error, not wrong offsets', () => {
    const got = offsetsFromPieces('abc', ['ab']);
    assert.ok('error' in got);
    assert.match(got.error, /spell 2 bytes but the document has 3/);
  });
});

describe('remote engine: requests and answers', () => {
  it('backoff doubles from the base delay and stops at the cap', () => {
    const p = { baseDelayMs: 250, maxDelayMs: 1500 };
    assert.deepEqual([1, 2, 3, 4, 5].map((a) => backoffDelay(a, p)), [250, 500, 1000, 1500, 1500]);
  });

  it('network errors read as sentences', () => {
    assert.match(networkReason(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })), /connection refused/);
    assert.match(networkReason(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } })), /host not found/);
  });

  it('vLLM: one new token over the prompt ids; routing from prompt_routed_experts, echoed ids checked', () => {
    assert.deepEqual(engines.vllm.routeBody([5, 6], 'm'), { model: 'm', prompt: [5, 6], max_tokens: 1, temperature: 0, return_token_ids: true });
    const answer = { choices: [{ index: 0, text: 'x', token_ids: [9], prompt_token_ids: [5, 6] }], prompt_routed_experts: [[[0, 1]], [[2, 3]]] };
    const trace = engines.vllm.parseRouting(answer, [5, 6]);
    assert.deepEqual([trace.layers, trace.topK, trace.promptTokens], [1, 2, 2]);
    assert.deepEqual(Array.from(trace.experts.subarray(0, 4)), [0, 1, 2, 3]);
    assert.throws(() => engines.vllm.parseRouting(answer, [5, 7]), /differ from the 2 sent/);
    assert.throws(() => engines.vllm.parseRouting({ choices: [{ prompt_token_ids: [5, 6] }] }, [5, 6]), /--enable-return-routed-experts/);
  });

  it('SGLang: input_ids with return_routed_experts; int32 rows reshaped by the config\'s layers and topK', () => {
    assert.deepEqual(engines.sglang.routeBody([5, 6], ''), { input_ids: [5, 6], sampling_params: { max_new_tokens: 1, temperature: 0 }, return_routed_experts: true });
    const buf = Buffer.alloc(2 * 2 * 2 * 4);
    [1, 2, 3, 4, 5, 6, 7, 0].forEach((v, i) => buf.writeInt32LE(v, 4 * i));
    const answer = { text: 'x', output_ids: [9], meta_info: { completion_tokens: 1, routed_experts: buf.toString('base64') } };
    const trace = engines.sglang.parseRouting(answer, [5, 6], { layers: 2, topK: 2 });
    assert.deepEqual(Array.from(trace.experts.subarray(0, 8)), [1, 2, 3, 4, 5, 6, 7, 0]);
    assert.throws(() => engines.sglang.parseRouting(answer, [5, 6], { layers: 3, topK: 2 }), /not a multiple of layers × top-k/);
    assert.throws(() => engines.sglang.parseRouting(answer, [5, 6]), /config\.json/);
  });
});

describe('remote engine: the extension manifest', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
    contributes: { commands: { command: string; enablement?: string }[]; configuration: { properties: Record<string, { enum?: string[] }> } };
  };

  it('the engine URL is a restricted setting (document text goes there) and the backend setting lists every engine', () => {
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('moeLens.remote.url'));
    assert.deepEqual(pkg.contributes.configuration.properties['moeLens.backend'].enum, ['onnx', 'vllm', 'sglang']);
    assert.ok(pkg.contributes.configuration.properties['moeLens.remote.model']);
  });

  it('steering and logit-based commands are disabled by the capability context keys', () => {
    const enablement = new Map(pkg.contributes.commands.map((c) => [c.command, c.enablement]));
    for (const c of ['moeLens.disableExpert', 'moeLens.forceExpert', 'moeLens.biasExpert', 'moeLens.toggleExpertAtCursor']) assert.equal(enablement.get(c), '!moeLens.cannotSteer', c);
    for (const c of ['moeLens.compareContinuation', 'moeLens.findContrastiveExperts']) assert.equal(enablement.get(c), '!moeLens.noLogits', c);
  });
});

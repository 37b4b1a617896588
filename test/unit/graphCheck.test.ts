import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelLoadError } from '../../server/model/errors';
import { checkGraphSignature, checkProbeDims, type GraphSignature, type GraphValue } from '../../server/model/graphCheck';
import { parseManifest, type MoeManifest } from '../../server/model/manifest';
import { embeddedModel } from '../support/paths';

const manifest = (): MoeManifest => parseManifest(readFileSync(join(embeddedModel, 'moe.json'), 'utf8'));

/** The signature onnxruntime-node 1.30 reports for the embedded graph (copied from inputMetadata/outputMetadata). */
function signature(): GraphSignature & { inputMetadata: GraphValue[]; outputMetadata: GraphValue[] } {
  const inputs: GraphValue[] = [
    { name: 'input_ids', isTensor: true, type: 'int64', shape: [1, 'T'] },
    { name: 'expert_bias', isTensor: true, type: 'float32', shape: [4, 16] },
  ];
  const outputs: GraphValue[] = [
    { name: 'logits', isTensor: true, type: 'float32', shape: [1, 'T', 4096] },
    { name: 'router_logits', isTensor: true, type: 'float32', shape: [4, 'T', 16] },
    { name: 'expert_ids', isTensor: true, type: 'int64', shape: [4, 'T', 2] },
    { name: 'expert_weights', isTensor: true, type: 'float32', shape: [4, 'T', 2] },
    { name: 'router_entropy', isTensor: true, type: 'float32', shape: [4, 'T'] },
    { name: 'token_logprobs', isTensor: true, type: 'float32', shape: [1, 'T'] },
  ];
  for (let l = 0; l < 4; l++) {
    for (const n of ['key', 'value']) {
      inputs.push({ name: `past_${n}.${l}`, isTensor: true, type: 'float32', shape: [1, 4, 'P', 32] });
      outputs.push({ name: `present_${n}.${l}`, isTensor: true, type: 'float32', shape: [1, 4, 'S', 32] });
    }
  }
  return { inputNames: inputs.map((v) => v.name), outputNames: outputs.map((v) => v.name), inputMetadata: inputs, outputMetadata: outputs };
}

const rejects = (fn: () => void, field: string, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof ModelLoadError && e.file === 'model.onnx' && e.field === field && re.test(e.message));

describe('graph signature vs manifest', () => {
  it('the embedded signature passes, with and without metadata', () => {
    checkGraphSignature(signature(), manifest(), 'model.onnx');
    const { inputNames, outputNames } = signature();
    checkGraphSignature({ inputNames, outputNames }, manifest(), 'model.onnx');
  });
  it('token_logprobs is optional, but checked when the manifest declares it', () => {
    const g = signature();
    g.outputNames = g.outputNames.filter((n) => n !== 'token_logprobs');
    g.outputMetadata = g.outputMetadata.filter((v) => v.name !== 'token_logprobs');
    rejects(() => checkGraphSignature(g, manifest(), 'model.onnx'), '/outputs/tokenLogprobs', /no output "token_logprobs"/);
    const m = manifest();
    delete m.outputs.tokenLogprobs;
    checkGraphSignature(g, m, 'model.onnx');
    const wrong = signature();
    wrong.outputMetadata[5] = { name: 'token_logprobs', isTensor: true, type: 'float32', shape: [1, 'T', 4096] };
    rejects(() => checkGraphSignature(wrong, manifest(), 'model.onnx'), '/outputs/tokenLogprobs', /rank|dimensions|shape/);
  });
  it('a missing KV input names the template field', () => {
    const g = signature();
    g.inputNames = g.inputNames.filter((n) => n !== 'past_value.2');
    rejects(() => checkGraphSignature(g, manifest(), 'model.onnx'), '/kvCache/pastValue', /no input "past_value\.2"/);
  });
  it('heads and headDim of the KV cache', () => {
    const m = manifest();
    m.kvCache.heads = 8;
    rejects(() => checkGraphSignature(signature(), m, 'model.onnx'), '/kvCache/heads', /past_key\.0.*dimension 1 is 4 but moe\.json says 8/);
    const m2 = manifest();
    m2.kvCache.headDim = 64;
    rejects(() => checkGraphSignature(signature(), m2, 'model.onnx'), '/kvCache/headDim', /dimension 3 is 32 but moe\.json says 64/);
  });
  it('element types', () => {
    const g = signature();
    g.inputMetadata[0] = { name: 'input_ids', isTensor: true, type: 'int32', shape: [1, 'T'] };
    rejects(() => checkGraphSignature(g, manifest(), 'model.onnx'), '/inputs/inputIds', /is int32, expected int64/);
  });
  it('vocabulary size against the logits', () => {
    const m = manifest();
    m.vocabSize = 5000;
    rejects(() => checkGraphSignature(signature(), m, 'model.onnx'), '/vocabSize', /dimension 2 is 4096 but moe\.json says 5000/);
  });
  it('expert_bias shape', () => {
    const m = manifest();
    m.experts = 8;
    rejects(() => checkGraphSignature(signature(), m, 'model.onnx'), '/inputs/expertBias', /shape \[4, 16\] but moe\.json says \[4, 8\]/);
  });
  it('probe dimensions: topK, experts and layers only a run reveals', () => {
    const dims = { logits: [1, 1, 4096], router_logits: [4, 1, 16], expert_ids: [4, 1, 2], expert_weights: [4, 1, 2], token_logprobs: [1, 1] };
    checkProbeDims(dims, manifest(), 'model.onnx');
    const m = manifest();
    m.topK = 3;
    rejects(() => checkProbeDims(dims, m, 'model.onnx'), '/topK', /"expert_ids" the shape \[4, 1, 2\], expected \[4, 1, 3\]/);
    rejects(() => checkProbeDims({ ...dims, router_logits: [3, 1, 16] }, manifest(), 'model.onnx'), '/layers', /router_logits/);
    rejects(() => checkProbeDims({ ...dims, expert_ids: [4, 2] }, manifest(), 'model.onnx'), '/outputs', /expert_ids/);
    rejects(() => checkProbeDims({ ...dims, token_logprobs: [1, 4096] }, manifest(), 'model.onnx'), '/outputs/tokenLogprobs', /token_logprobs/);
  });
});

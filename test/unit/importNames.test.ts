// The folder name an imported model gets in global storage (extension/models/modelName.ts).
import assert from 'node:assert/strict';
import { importedModelName, safeFolderName, uniqueName } from '../../extension/models/modelName';

const config = (o: Record<string, unknown>) => JSON.stringify(o);

describe('imported model names', () => {
  it("prefers config.json's _name_or_path, then the folder, then the architecture", () => {
    assert.equal(importedModelName(config({ _name_or_path: 'allenai/OLMoE-1B-7B-0924', architectures: ['OlmoeForCausalLM'] }), '/data/olmoe'), 'OLMoE-1B-7B-0924');
    assert.equal(importedModelName(config({ _name_or_path: 'C:\\models\\Mixtral-8x7B\\', architectures: ['MixtralForCausalLM'] }), 'D:\\x'), 'Mixtral-8x7B');
    assert.equal(importedModelName(config({ architectures: ['Qwen3MoeForCausalLM'] }), '/data/ckpt/Qwen3-30B-A3B/'), 'Qwen3-30B-A3B');
    assert.equal(importedModelName(config({ _name_or_path: '', architectures: ['Qwen3MoeForCausalLM'] }), '/'), 'Qwen3Moe');
    assert.equal(importedModelName(undefined, ''), 'model');
  });

  it('a Hugging Face cache snapshot is named after its repository, not its commit hash', () => {
    const snap = '/data/.cache/huggingface/hub/models--Qwen--Qwen1.5-MoE-A2.7B/snapshots/0123456789abcdef0123456789abcdef01234567';
    assert.equal(importedModelName(config({ architectures: ['Qwen2MoeForCausalLM'] }), snap), 'Qwen1.5-MoE-A2.7B');
    assert.equal(importedModelName(config({ architectures: ['Qwen2MoeForCausalLM'] }), '/x/0123456789abcdef0123456789abcdef01234567'), '0123456789abcdef0123456789abcdef01234567', 'a hash outside a cache is just a name');
  });

  it('a missing or broken config.json still gives a name', () => {
    assert.equal(importedModelName('{ not json', '/m/my model'), 'my-model');
    assert.equal(importedModelName('[1]', '/m/tiny'), 'tiny');
    assert.equal(importedModelName(config({ _name_or_path: 7, architectures: 'x' }), '/m/tiny'), 'tiny');
  });

  it('folder names are safe on every platform and at most 64 characters', () => {
    assert.equal(safeFolderName('..my: model?*'), 'my-model');
    assert.equal(safeFolderName('模型'), '');
    assert.equal(safeFolderName(`${'a'.repeat(63)}.b`), 'a'.repeat(63));
    assert.equal(importedModelName(config({ _name_or_path: '模型', architectures: ['MixtralForCausalLM'] }), '/m/专家'), 'Mixtral');
  });

  it('unique among the folders already there, ignoring case', () => {
    assert.equal(uniqueName('Qwen3', []), 'Qwen3');
    assert.equal(uniqueName('Qwen3', ['qwen3', 'Qwen3-2', '.importing-1-x']), 'Qwen3-3');
    assert.equal(uniqueName('Qwen3', ['Qwen3-2']), 'Qwen3');
  });
});

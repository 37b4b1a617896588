import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCheckpoint } from '../../server/import/importCheckpoint';
import { exportHf } from '../../server/prune/exportHf';
import { exportReduced, planFromKept } from '../../server/prune/exportModel';
import { readMoeGraph } from '../../server/prune/moeGraph';
import { GraphRunner, HF_ARCHS, hubFolder } from '../support/hfFixtures';
import { repoRoot } from '../support/paths';

interface PruneGolden {
  keep: number;
  kept: number[][];
  safetensors_sha256: string;
  config_experts: number;
  logit_indices: number[];
  texts: { name: string; input_ids: number[]; logits_at_indices: number[][] }[];
}

/**
 * The pruned Hugging Face checkpoint (`moe-lens prune --hf`) against transformers 5.18, without Python: tools/prune/
 * make_hf_golden.py loaded the checkpoint MoE Lens wrote for the same kept experts and recorded its logits
 * (test/fixtures/prune/<arch>.json). Here the same export is written again and must be byte-identical (the sha256 of
 * model.safetensors transformers loaded), and the pruned model directory (b) must give transformers' logits within 1e-4.
 */
describe('pruned Hugging Face checkpoint: transformers 5.18 (recorded) = the pruned model directory', function () {
  this.timeout(300000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-prunehf-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  // Recorded for every family whose pruned export has a Hugging Face layout: gpt-oss's (MXFP4), GLM-4.5's and
  // DeepSeek's (grouped routers) pruned exports are refused (prunedExport.test.ts).
  const recorded = HF_ARCHS.filter((a) => existsSync(join(repoRoot, 'test', 'fixtures', 'prune', `${a}.json`)));
  it('has a recording for every family but gpt-oss, GLM-4.5 and DeepSeek', () => {
    assert.deepEqual(HF_ARCHS.filter((a) => !(recorded as string[]).includes(a)), ['gpt_oss', 'glm4_moe', 'deepseek_v3', 'deepseek_v2', 'deepseek_v3_plain']);
  });
  for (const arch of recorded) {
    it(arch, async () => {
      const golden = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'prune', `${arch}.json`), 'utf8')) as PruneGolden;
      const imported = join(tmp, `${arch}-imported`);
      const hub = hubFolder(arch);
      try {
        await importCheckpoint(hub, imported);
      } finally {
        rmSync(hub, { recursive: true, force: true });
      }
      const pruned = join(tmp, `${arch}-pruned`);
      exportReduced(readMoeGraph(imported), planFromKept(golden.kept), pruned, { method: 'test' });
      exportHf(readMoeGraph(pruned), join(pruned, 'hf'));
      const sha = createHash('sha256').update(readFileSync(join(pruned, 'hf', 'model.safetensors'))).digest('hex');
      assert.equal(sha, golden.safetensors_sha256, 'the same checkpoint transformers loaded');
      const config = JSON.parse(readFileSync(join(pruned, 'hf', 'config.json'), 'utf8')) as Record<string, number>;
      assert.equal(config.num_local_experts ?? config.num_experts, golden.keep);
      const runner = await GraphRunner.open(pruned);
      try {
        const V = runner.manifest.vocabSize;
        let max = 0;
        for (const t of golden.texts) {
          const logits = (await runner.run(t.input_ids))[runner.manifest.outputs.logits].data as Float32Array;
          t.logits_at_indices.forEach((row, pos) => row.forEach((x, i) => (max = Math.max(max, Math.abs(logits[pos * V + golden.logit_indices[i]] - x)))));
        }
        assert.ok(max <= 1e-4, `${arch}: max |Δlogit| ${max} vs transformers`);
      } finally {
        await runner.dispose();
      }
    });
  }
});

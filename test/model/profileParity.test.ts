import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importanceScores } from '../../common/expertImportance';
import { offloadLayers } from '../../common/offloadSim';
import { importCheckpoint } from '../../server/import/importCheckpoint';
import { profileCorpus } from '../../server/prune/corpusProfile';
import { readMoeGraph } from '../../server/prune/moeGraph';
import { profilingGraph } from '../../server/prune/profile';
import { workerPlan } from '../../server/prune/profileWorkers';
import { onnx } from 'onnx-proto';
import { referenceOffloadLayers } from '../support/offloadReference';
import { referenceProfileCorpus } from '../support/profileReference';
import { hubFolder } from '../support/hfFixtures';
import { embeddedModel } from '../support/paths';

/**
 * The fast profiling pass (server/prune/profile.ts: the graph cut to routing, rank 0's ‖y‖ from the layer's output,
 * windows on worker threads; corpusProfile.ts; common/offloadSim.ts) against the pass it replaced
 * (test/support/profileReference.ts: every rank in an op of its own, one session, per-token JS loops): the same
 * same routing (frequency, the expert sequences and so the offloading numbers), the gate-weight sums and the router
 * Gram to the bit at top-2, and REAP's Σ gate weight × ‖expert output‖ within float rounding. At top-3 and more the
 * MoE op's sum over a token's experts depends on how its intra-op threads split the experts (a worker runs one thread,
 * the reference as many as the machine has cores), so layers after the first see hidden states that differ in the last
 * bits: there the sums agree within 1e-6. On the embedded model over several windows and on imported fixtures with
 * other routers: top-3 (OLMoE: not renormalised, BOS), Granite's softmax over the top-k, Phi-3.5's sparsemixer,
 * DeepSeek-V3's grouped sigmoid router with its correction bias.
 */
describe('profiling pass: the fast graph and workers equal the per-rank reference', function () {
  this.timeout(600000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-profile-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const python = readFileSync(join(embeddedModel, 'profile', 'python.txt'), 'utf8');
  const markdown = readFileSync(join(embeddedModel, 'profile', 'markdown.txt'), 'utf8');

  async function compare(dir: string, texts: string[]) {
    const g = readMoeGraph(dir);
    const { layers: L, experts: E, topK: K } = g.manifest;
    const ref = await referenceProfileCorpus(g, texts, 4096);
    const fast = await profileCorpus(g, texts, { maxTokens: 4096, keepSequences: true });
    assert.equal(fast.counts.tokens, ref.counts.tokens);
    assert.deepEqual(fast.counts.freq, ref.counts.freq, 'frequency');
    const same = (a: Float64Array, b: Float64Array, what: string) => {
      if (K <= 2) return assert.deepEqual(a, b, what);
      const scale = Math.max(...b.map(Math.abs));
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-6 * scale, `${what} [${i}]: ${a[i]} vs ${b[i]}`);
    };
    same(fast.counts.weight, ref.counts.weight, 'gate weight sums');
    for (let l = 0; l < L; l++) same(fast.gram[l], ref.gram[l], `router Gram, layer ${l}`);
    const scale = Math.max(...ref.counts.reapSum);
    assert.ok(scale > 0, 'REAP sums are positive');
    for (let i = 0; i < L * E; i++) {
      const d = Math.abs(fast.counts.reapSum[i] - ref.counts.reapSum[i]);
      assert.ok(d <= 1e-5 * Math.max(ref.counts.reapSum[i], 1e-3 * scale), `REAP sum [${Math.floor(i / E)}, ${i % E}]: ${fast.counts.reapSum[i]} vs ${ref.counts.reapSum[i]}`);
    }
    const order = (s: number[][]) => s.map((row) => row.map((_, e) => e).sort((a, b) => row[b] - row[a] || a - b));
    assert.deepEqual(order(importanceScores(fast.counts, 'reap')), order(importanceScores(ref.counts, 'reap')), 'experts ranked the same by REAP');
    assert.deepEqual(fast.sequences!.map((t) => t.map((s) => Array.from(s))), ref.sequences.map((t) => t.map((s) => s.flat())), 'expert sequences');
    const shape = { layers: L, experts: E, topK: K };
    assert.deepEqual(offloadLayers(fast.sequences!, shape, 16, 2 * K, 1000), referenceOffloadLayers(ref.sequences, shape, 16, 2 * K, 1000));
  }

  it('embedded model: several windows of two texts; without norms (no REAP asked) the same routing', async () => {
    const texts = [python.slice(0, 6000), markdown.slice(0, 2500)];
    await compare(embeddedModel, texts);
    const g = readMoeGraph(embeddedModel);
    const [full, lean] = await Promise.all([profileCorpus(g, texts, { maxTokens: 4096 }), profileCorpus(g, texts, { maxTokens: 4096, norms: false })]);
    assert.deepEqual([lean.counts.freq, lean.counts.weight, lean.gram], [full.counts.freq, full.counts.weight, full.gram]);
    assert.ok(lean.counts.reapSum.every((x) => x === 0));
    // no extra expert evaluation, and the last layer's own op goes too: only the lm_head read its output
    assert.equal(onnx.ModelProto.decode(new Uint8Array(profilingGraph(g, false))).graph!.node!.filter((n) => n.opType === 'MoE').length, g.manifest.layers - 1);
  });

  it('the profiling graph keeps only what routing needs and feeds only token ids', () => {
    const model = onnx.ModelProto.decode(new Uint8Array(profilingGraph(readMoeGraph(embeddedModel))));
    const g = model.graph!;
    assert.deepEqual(g.input!.map((i) => i.name), ['input_ids']);
    assert.deepEqual(g.output!.map((o) => o.name).sort(), ['expert_ids', 'expert_output_norms', 'expert_weights', 'router_logits']);
    // 4 layers × (the layer's op + one more for rank 1 of the top-2); no lm_head, so no op reads the vocabulary
    assert.equal(g.node!.filter((n) => n.opType === 'MoE').length, 8);
    assert.ok(!g.node!.some((n) => n.opType === 'ReduceLogSumExp'), 'the log-probabilities are gone');
  });

  it('workers: as many as the memory allows, at most one per core', () => {
    assert.deepEqual(workerPlan(20e6, 2), { workers: 2, threads: 1 });
    assert.deepEqual(workerPlan(20e6, 16), { workers: 4, threads: 4 });
    assert.deepEqual(workerPlan(300e6, 8), { workers: 1, threads: 8 });
    assert.deepEqual(workerPlan(20e6, 1), { workers: 1, threads: 1 });
  });

  for (const arch of ['olmoe', 'granitemoe', 'phimoe', 'deepseek_v3']) {
    it(`imported ${arch}`, async () => {
      const dir = join(tmp, arch);
      const hub = hubFolder(arch);
      try {
        await importCheckpoint(hub, dir);
      } finally {
        rmSync(hub, { recursive: true, force: true });
      }
      await compare(dir, [python.slice(0, 1500), markdown.slice(0, 800)]);
    });
  }
});

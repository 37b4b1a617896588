import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeText } from '../../server/analysis/analyzer';
import { analyzeIncremental } from '../../server/analysis/incremental';
import { importCheckpoint } from '../../server/import/importCheckpoint';
import { ModelSession } from '../../server/model/modelSession';
import { entropyNats } from '../../server/routing/math';
import { hubFolder, hubRoot } from '../support/hfFixtures';

/**
 * Imported graphs output router entropy (moe.json outputs.routerEntropy, [L, T] nats): analysis copies it instead of
 * computing it in JS. The same imported OLMoE fixture is loaded twice, once as imported and once with a moe.json that
 * does not declare the output (the JS path, as for a model without it): both give the same entropy within 1e-5, and
 * the first gives exactly the graph's values.
 */
describe('router entropy from the graph', function () {
  this.timeout(120000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-entropy-'));
  let graph: ModelSession;
  let js: ModelSession;
  const text = 'def mean(xs):\r\n\treturn sum(xs) / len(xs)  # average 平均 🙂\nprint(mean([1, 2, 3]))\n'.repeat(6);

  before(async () => {
    const hub = hubFolder('olmoe');
    const imported = join(tmp, 'olmoe');
    try {
      await importCheckpoint(hub, imported);
    } finally {
      rmSync(hubRoot(hub), { recursive: true, force: true });
    }
    const plain = join(tmp, 'olmoe-no-entropy-output');
    mkdirSync(plain);
    // hard links: the same bytes as regular files inside the folder (a model directory may not link outside itself)
    for (const f of ['model.onnx', 'model.onnx.data', 'tokenizer.json']) linkSync(join(imported, f), join(plain, f));
    const m = JSON.parse(readFileSync(join(imported, 'moe.json'), 'utf8'));
    assert.equal(m.outputs.routerEntropy, 'router_entropy');
    delete m.outputs.routerEntropy;
    writeFileSync(join(plain, 'moe.json'), JSON.stringify(m));
    graph = await ModelSession.load(imported, 'cpu');
    js = await ModelSession.load(plain, 'cpu');
  });
  after(async () => {
    await graph?.dispose();
    await js?.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('the forward pass returns the graph output, equal to the entropy of the router logits', async () => {
    const { layers: L, experts: E } = graph.info;
    const ids = graph.tokenizer.encode(text).ids.slice(0, 40);
    const out = await graph.forward(ids, new Float32Array(L * E));
    assert.ok(out.routerEntropy, 'an imported graph has router_entropy');
    assert.equal(out.routerEntropy.length, L * ids.length);
    assert.equal((await js.forward(ids, new Float32Array(L * E))).routerEntropy, undefined);
    let max = 0;
    for (let r = 0; r < L * ids.length; r++) max = Math.max(max, Math.abs(out.routerEntropy[r] - entropyNats(out.routerLogits, r * E, E)));
    assert.ok(max <= 1e-5, `max |Δ entropy| ${max}`);
  });

  it('full and incremental analysis: graph entropy equals the JS path within 1e-5', async () => {
    const opts = { maxTokens: 4096, rules: [] };
    const a = await analyzeText(graph, text, 1, opts);
    const b = await analyzeText(js, text, 1, opts);
    assert.deepEqual(a.ids, b.ids);
    assert.equal(a.entropy.length, a.tokens * graph.info.layers);
    const maxDiff = (x: number[], y: number[]) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
    assert.ok(maxDiff(a.entropy, b.entropy) <= 1e-5, `full: ${maxDiff(a.entropy, b.entropy)}`);
    // the graph path copies the output: exactly float32 values, which the JS path (float64) almost never gives
    assert.ok(a.entropy.every((h) => Math.fround(h) === h));
    assert.ok(!b.entropy.every((h) => Math.fround(h) === h));

    const edited = `${text.slice(0, -2)}7)\n`;
    const stats = { computed: 0, reused: 0 };
    const pa = await analyzeIncremental(graph, edited, 2, opts, await analyzeIncremental(graph, text, 1, opts), stats);
    const pb = await analyzeIncremental(js, edited, 2, opts, await analyzeIncremental(js, text, 1, opts));
    assert.ok(stats.computed > 0 && stats.computed < 10, `an edit at the end reruns a few tokens, not ${stats.computed}`);
    assert.ok(maxDiff(pa.result.entropy, pb.result.entropy) <= 1e-5, `incremental: ${maxDiff(pa.result.entropy, pb.result.entropy)}`);
    const fresh = await analyzeText(graph, edited, 2, opts);
    assert.ok(maxDiff(pa.result.entropy, fresh.entropy) <= 1e-5, 'the incremental result equals a fresh analysis');
  });
});

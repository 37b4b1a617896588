import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RoutingResult } from '../../common/protocol';
import { analyzeText } from '../../server/analysis/analyzer';
import { ModelSession } from '../../server/model/modelSession';
import { readTrace } from '../../server/trace/readTrace';
import { traceRouting } from '../../server/trace/traceRouting';
import { distDir, embeddedModel, repoRoot } from '../support/paths';

const fixtures = join(repoRoot, 'test', 'fixtures', 'traces');
const sample = join(fixtures, 'sample.py');

/** The fixtures hold the embedded model's own routing of sample.py (tools/traces/makeTraceFixtures.mjs). */
describe('engine traces with the embedded model', function () {
  let session: ModelSession;
  const text = readFileSync(sample, 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'moe-lens-trace-'));
  const cli = join(distDir, 'cli.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  before(async () => {
    session = await ModelSession.load(embeddedModel, 'cpu');
  });
  after(async () => {
    await session.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = async (name: string, on = text) => traceRouting(await readTrace(join(fixtures, name), session.info), session.tokenizer.encode(on), session.info, { file: name, version: 3 });

  it('a vLLM (list and .npy forms) and an SGLang trace of the same text give the same routing: the model\'s own', async () => {
    const v = await open('vllm.json');
    const s = await open('sglang.json');
    const n = await open('vllm-npy.json');
    assert.deepEqual(n.experts, v.experts);
    const model = await analyzeText(session, text, 3, { maxTokens: 4096, rules: [] });
    assert.equal(v.tokens, model.tokens);
    assert.deepEqual(v.experts, model.experts);
    assert.deepEqual(s.experts, model.experts);
    assert.deepEqual(v.offsets, model.offsets);
    assert.deepEqual(v.ids, model.ids);
    assert.deepEqual([v.source?.engine, s.source?.engine], ['vllm', 'sglang']);
    assert.deepEqual(v.notRecorded, []);
    assert.deepEqual(s.absent, ['weights', 'entropy', 'surprisal']);
  });

  it('prefix-cached positions of a vLLM trace are not recorded, the rest as the model routed them', async () => {
    const r = await open('vllm-prefix-cached.json');
    const full = await open('vllm.json');
    assert.deepEqual(r.notRecorded, Array.from({ length: 16 }, (_, i) => i));
    const per = r.model.layers * r.model.topK;
    assert.deepEqual(r.experts.slice(16 * per), full.experts.slice(16 * per));
  });

  it('a trace of another text is refused naming the first differing token', async () => {
    await assert.rejects(open('vllm.json', text.replace('mean', 'median')), /token \d+ differs: the trace has id \d+, the model's tokenizer gives \d+/);
  });

  it('route --trace: the moeLens/routing shape with absent arrays, equal to route on the model', () => {
    const traced = run('route', sample, '--trace', join(fixtures, 'sglang.json'), '--json');
    assert.equal(traced.status, 0, traced.stderr);
    const t = JSON.parse(traced.stdout) as RoutingResult;
    const m = JSON.parse(run('route', sample, '--json', '--provider', 'cpu').stdout) as RoutingResult;
    assert.deepEqual(t.experts, m.experts);
    assert.deepEqual(t.absent, ['weights', 'entropy', 'surprisal']);
    const heat = run('route', sample, '--trace', join(fixtures, 'vllm-prefix-cached.json'));
    assert.equal(heat.status, 0, heat.stderr);
    assert.match(heat.stdout, /vllm trace .*vllm-prefix-cached\.json \(16 tokens not recorded\)/);
  });

  it('route --trace refuses unusable traces with exit 2, naming the trace file', () => {
    const other = join(dir, 'other.py');
    writeFileSync(other, 'print("hello")\n');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"prompt_token_ids": [1], "prompt_routed_experts": [[[1, 2]]]}');
    const cases: [string[], RegExp][] = [
      [['route', other, '--trace', join(fixtures, 'vllm.json')], /vllm\.json: token 0 differs/],
      [['route', sample, '--trace', join(dir, 'none.json')], /none\.json: cannot read the trace \(ENOENT\)/],
      [['route', sample, '--trace', broken], /broken\.json: the trace routes 1 layers, the model moe-lens-tiny-16e has 4/],
      [['route', sample, '--trace'], /--trace needs a value/],
    ];
    for (const [args, re] of cases) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });
});

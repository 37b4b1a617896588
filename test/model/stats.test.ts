import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RoutingResult, StatsResult } from '../../common/protocol';
import { ModelSession } from '../../server/model/modelSession';
import { distDir, embeddedModel, repoRoot } from '../support/paths';

/**
 * `moe-lens stats` against an independent recomputation: the per-token routing from `moe-lens route --json` of the
 * same files, and p_i from the router logits of a forward pass in this test, with the formulas written out here
 * again (not the accumulator's code).
 */
describe('moe-lens stats (CLI) equals a recomputation from route --json', function () {
  const dir = mkdtempSync(join(tmpdir(), 'moe-lens-stats-'));
  const files = [join(repoRoot, 'test', 'fixtures', 'traces', 'sample.py'), join(dir, 'notes.md')];
  writeFileSync(files[1], '# Notes\n\nThe cache keeps the most recent values; the values are read twice.\n\n- one\n- two\n- one\n');
  const cli = join(distDir, 'cli.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  let session: ModelSession;
  before(async () => {
    session = await ModelSession.load(embeddedModel, 'cpu');
  });
  after(async () => {
    await session.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every per-layer number matches', async () => {
    const res = run('stats', ...files, '--json', '--provider', 'cpu');
    assert.equal(res.status, 0, res.stderr);
    const s = JSON.parse(res.stdout) as StatsResult;
    const routed = files.map((f) => JSON.parse(run('route', f, '--json', '--provider', 'cpu').stdout) as RoutingResult);
    const { layers: L, experts: E, topK: K } = routed[0].model;
    assert.deepEqual(s.model, { name: routed[0].model.name, layers: L, experts: E, topK: K });
    assert.deepEqual(s.files, files);
    const N = routed.reduce((a, r) => a + r.tokens, 0);
    assert.equal(s.tokens, N);
    // p_i: softmax of the raw router logits, averaged over every token of both files
    const probs = new Float64Array(L * E);
    for (const r of routed) {
      assert.ok(r.tokens <= r.model.contextLength, 'test files fit one window');
      const out = await session.forward(r.ids, new Float32Array(L * E));
      for (let l = 0; l < L; l++) {
        for (let t = 0; t < r.tokens; t++) {
          const row = Array.from(out.routerLogits.subarray((l * r.tokens + t) * E, (l * r.tokens + t + 1) * E));
          const m = Math.max(...row);
          const z = row.reduce((a, x) => a + Math.exp(x - m), 0);
          row.forEach((x, e) => (probs[l * E + e] += Math.exp(x - m) / z / N));
        }
      }
    }
    for (let l = 0; l < L; l++) {
      const slots = new Array<number>(E).fill(0);
      const top1Count = new Array<number>(E).fill(0);
      const byId = new Map<number, number[]>();
      let pairs = 0;
      let repeats = 0;
      let entropy = 0;
      for (const r of routed) {
        let prev = -1;
        for (let t = 0; t < r.tokens; t++) {
          const at = (k: number) => (t * L + l) * K + k;
          for (let k = 0; k < K; k++) slots[r.experts[at(k)]]++;
          let best = 0;
          for (let k = 1; k < K; k++) if (r.weights[at(k)] > r.weights[at(best)]) best = k;
          const e = r.experts[at(best)];
          top1Count[e]++;
          if (t > 0) {
            pairs++;
            if (e === prev) repeats++;
          }
          prev = e;
          const row = byId.get(r.ids[t]) ?? new Array<number>(E).fill(0);
          row[e]++;
          byId.set(r.ids[t], row);
          entropy += r.entropy[t * L + l];
        }
      }
      const got = s.layers[l];
      const near = (a: number | null, b: number, what: string) => assert.ok(a !== null && Math.abs(a - b) < 1e-6, `layer ${l} ${what}: ${a} vs ${b}`);
      const load = slots.map((c) => c / (N * K));
      load.forEach((f, e) => near(got.load[e], f, `load[${e}]`));
      Array.from(probs.subarray(l * E, (l + 1) * E)).forEach((p, e) => near(got.meanProb![e], p, `meanProb[${e}]`));
      near(got.lbl, E * load.reduce((a, f, e) => a + f * probs[l * E + e], 0), 'lbl');
      assert.deepEqual(got.deadExperts, load.flatMap((f, e) => (f === 0 ? [e] : [])));
      near(got.top1Repeat, repeats / pairs, 'top1Repeat');
      near(got.top1RepeatChance, top1Count.reduce((a, c) => a + (c / N) ** 2, 0), 'top1RepeatChance');
      const rep = [...byId.values()].map((row) => [row.reduce((a, c) => a + c, 0), Math.max(...row)]).filter(([n]) => n >= 2);
      near(got.tokenIdConsistency, rep.reduce((a, [, m]) => a + m, 0) / rep.reduce((a, [n]) => a + n, 0), 'tokenIdConsistency');
      near(got.meanEntropy, entropy / N, 'meanEntropy');
    }
  });

  it('the table names the model and every layer; --profile counts the profile corpus', () => {
    const r = run('stats', '--profile');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^moe-lens-\S+ · \d+ tokens · 5 files\n/);
    assert.match(r.stdout, /layer\s+lbl\s+dead\s+top1Repeat\s+chance\s+tokenIdConsistency\s+meanEntropy/);
    for (let l = 0; l < 4; l++) assert.match(r.stdout, new RegExp(`\\n\\s+${l}\\s+\\d\\.\\d{3}`));
  });

  it('a glob expands to its files in order', () => {
    const s = JSON.parse(run('stats', join(repoRoot, 'media', 'model', 'profile', '*.txt'), '--json').stdout) as StatsResult;
    assert.deepEqual(s.files.map((f) => f.slice(f.lastIndexOf('/') + 1)), ['c_cpp.txt', 'json.txt', 'markdown.txt', 'python.txt', 'typescript_js.txt']);
  });

  it('unusable input exits 2 naming the file', () => {
    const binary = join(dir, 'blob.bin');
    writeFileSync(binary, Buffer.from([0x41, 0, 0x42]));
    const cases: [string[], RegExp][] = [
      [['stats', join(dir, 'none.txt')], /no such file: .*none\.txt/],
      [['stats', join(dir, 'nothing-*.zz')], /no such file: .*nothing-\*\.zz/],
      [['stats', files[1], binary], /blob\.bin is not a text file/],
      [['stats'], /stats needs FILE\|GLOB… or --profile/],
      [['stats', files[1], '--model', dir], /cannot load the model/],
      [['stats', files[1], '--trace', 'x'], /unknown option --trace/],
    ];
    for (const [args, re] of cases) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });
});

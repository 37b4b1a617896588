// The panel's Statistics view and routing from an engine trace, in Chromium (same harness as panel.test.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RoutingResult, StatsResult } from '../../common/protocol';
import { loadFixture, PanelHarness, routingMessage, type ThemeName } from './harness';

const shots = join(process.cwd(), 'test-results', 'webview');
const py = loadFixture('python');
const L = py.result.model.layers;

/** The python fixture as a trace would deliver it: no weights, entropy or surprisal, the first 8 tokens not recorded. */
function traced(): RoutingResult {
  const r = py.result;
  return { ...r, weights: r.weights.map(() => 0), entropy: r.entropy.map(() => 0), surprisal: r.surprisal.map(() => 0), source: { kind: 'trace', engine: 'vllm', file: '/runs/vllm.json' }, absent: ['weights', 'entropy', 'surprisal'], notRecorded: [0, 1, 2, 3, 4, 5, 6, 7] };
}

describe('routing panel: Statistics view and engine traces (Chromium)', function () {
  this.timeout(90000);
  const h = new PanelHarness();
  let stats: StatsResult;
  before(async () => {
    mkdirSync(shots, { recursive: true });
    // A real moeLens/stats shape: the CLI over a fixture file (the same collectStats the server runs)
    const out = spawnSync(process.execPath, [join('dist', 'cli.js'), 'stats', join('test', 'fixtures', 'traces', 'sample.py'), '--json', '--provider', 'cpu'], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    stats = JSON.parse(out.stdout) as StatsResult;
    await h.start();
  });
  after(() => h.stop());

  it('a stats result opens the Statistics view: load heatmap (% of slots) and a table row per layer', async () => {
    await h.open('dark');
    await h.send({ type: 'statistics', result: stats });
    await h.waitForChart(`d.z.length === ${stats.layers.length}`);
    const z = await h.chart<number[][]>('c.data[0].z');
    assert.ok(Math.abs(z[1][3] - stats.layers[1].load[3] * 100) < 1e-9);
    const rows = h.page.locator('table.stats-table tbody tr');
    assert.equal(await rows.count(), stats.layers.length);
    const l0 = stats.layers[0];
    assert.match(await rows.first().innerText(), new RegExp(`^0\\s+${l0.lbl!.toFixed(3)}\\s+${l0.deadExperts.length}\\s+${l0.top1Repeat!.toFixed(3)}\\s+${l0.top1RepeatChance.toFixed(3)}`));
    assert.match(await h.page.locator('#info').innerText(), /\d+ tokens · 1 text \(Routing Statistics…\)/);
    assert.deepEqual(h.errors, []);
  });

  it('without a stats result, the active document\'s own statistics; p and LBL shown as missing, not 0', async () => {
    await h.open('dark', { view: 'statistics', metric: 'expert', layer: 0, windowStart: 0 });
    assert.match(await h.page.locator('#empty').innerText(), /No statistics yet/);
    await h.send(routingMessage(py));
    await h.waitForChart(`d.z.length === ${L}`);
    const first = h.page.locator('table.stats-table tbody tr').first();
    assert.match(await first.innerText(), /^0\s+—\s+\d+\s+0\.\d{3}/);
    assert.equal(await first.locator('td').nth(1).getAttribute('title'), 'needs the router distribution: run “MoE Lens: Routing Statistics…”');
  });

  it('a trace: gate weights and entropy are gaps with "not in the trace", unrecorded tokens are gaps, the expert map stays', async () => {
    await h.open('dark', { view: 'heatmap', metric: 'gate', layer: 0, windowStart: 0 });
    await h.send({ ...routingMessage(py), result: traced() });
    await h.waitForChart();
    const z = await h.chart<(number | null)[][]>('c.data[0].z');
    assert.ok(z.every((row) => row.every((v) => v === null)), 'no gate weights drawn');
    assert.match(await h.page.locator('#info').innerText(), /routing from the vLLM trace vllm\.json \(8 tokens not recorded: gaps\).*gate weights not in the trace/);
    await h.choose('metric', 'Top-1 expert');
    await h.waitForChart('d.z[0][8] !== null');
    const e = await h.chart<(number | null)[][]>('c.data[0].z');
    assert.equal(e[0][0], null);
    assert.equal(e[0][8], py.result.experts[8 * L * py.result.model.topK]);
    const hover0 = await h.chart<string>('c.data[0].text[0][0]');
    const hover8 = await h.chart<string>('c.data[0].text[0][8]');
    assert.match(hover0, /routing not recorded by the engine/);
    assert.match(hover8, /weights and entropy not in the trace/);
    assert.doesNotMatch(hover8, /0\.00/);
    await h.choose('view', 'Layer × expert load');
    await h.waitForChart('c.layout.yaxis.ticktext !== undefined');
    assert.ok((await h.chart<string[]>('c.layout.yaxis.ticktext')).every((t) => /LBL —$/.test(t)));
    assert.deepEqual(h.errors, []);
  });

  for (const theme of ['light', 'dark'] as ThemeName[]) {
    it(`screenshot of the Statistics view (${theme})`, async () => {
      await h.open(theme, undefined, { width: 820, height: 620 });
      await h.send({ type: 'statistics', result: stats });
      await h.waitForChart();
      await h.page.waitForTimeout(150);
      await h.page.screenshot({ path: join(shots, `statistics-${theme}.png`) });
      assert.deepEqual(h.errors, []);
    });
  }
});

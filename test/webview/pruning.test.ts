// The panel's Pruning, Importance and Offloading views in Chromium (same harness as panel.test.ts), drawn from real
// results: the CLI runs importance, prune (--keep auto --merge) and offload on the embedded model at test time, with
// the same command lines the extension builds (extension/prune/pruneCliArgs.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parsePruneEvent, type PruneDoneEvent } from '../../common/pruneEvents';
import type { ImportanceResult, OffloadResult, PruneResult } from '../../common/pruneProtocol';
import { importanceArgs, offloadArgs, pruneArgs, type PruneRequest } from '../../extension/prune/pruneCliArgs';
import { PanelHarness, type ThemeName } from './harness';

const shots = join(process.cwd(), 'test-results', 'webview');

function cli(args: string[]): PruneDoneEvent {
  const r = spawnSync(process.execPath, [join('dist', 'cli.js'), ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const done = r.stdout.split('\n').map(parsePruneEvent).find((e) => e?.event === 'done');
  assert.ok(done?.event === 'done', `no valid result in ${r.stdout.slice(-300)}`);
  return done;
}

describe('routing panel: pruning curve, importance and offloading (Chromium)', function () {
  this.timeout(180000);
  const h = new PanelHarness();
  const request: PruneRequest = { corpus: [join('samples', 'fib.py')], eval: [join('samples', 'server.ts')], criterion: 'reap', tolerance: 0.02, keep: 'auto', merge: true, draws: 3 };
  let prune: PruneResult;
  let importance: ImportanceResult;
  let offload: OffloadResult;
  const pruningMessage = () => ({ type: 'pruning', result: prune, importance, caption: 'the embedded model · reap on fib.py' });
  before(async () => {
    mkdirSync(shots, { recursive: true });
    prune = (cli(pruneArgs(request).args) as Extract<PruneDoneEvent, { command: 'prune' }>).result;
    importance = (cli(importanceArgs(request).args) as Extract<PruneDoneEvent, { command: 'importance' }>).result;
    offload = (cli(offloadArgs({ corpus: request.corpus }).args) as Extract<PruneDoneEvent, { command: 'offload' }>).result;
    await h.start();
  });
  after(() => h.stop());

  it('the quality curve: the criterion, frequency, random mean and its ± sd band, merging; the threshold and tolerance lines', async () => {
    await h.open('dark');
    await h.send(pruningMessage());
    await h.waitForChart('c.data.length >= 6');
    const data = await h.chart<{ name: string; x: number[]; y: number[]; fill?: string }[]>('c.data.map((d) => ({ name: d.name, x: d.x, y: d.y, fill: d.fill }))');
    const pts = [...prune.curve].sort((a, b) => a.keptFraction - b.keptFraction);
    const byName = (n: string) => data.find((d) => d.name === n)!;
    assert.deepEqual(byName('reap').y, pts.map((p) => p.bitsPerToken));
    assert.deepEqual(byName('reap').x, pts.map((p) => p.keptFraction * 100));
    assert.deepEqual(byName('frequency').y, pts.map((p) => p.frequencyBitsPerToken));
    assert.deepEqual(byName('random (mean)').y, pts.map((p) => p.randomBitsPerToken.mean));
    assert.deepEqual(byName('merged (MC-SMoE)').y, pts.map((p) => p.mergedBitsPerToken));
    const band = byName('random mean ± sd');
    assert.equal(band.fill, 'tonexty');
    assert.deepEqual(band.y, pts.map((p) => p.randomBitsPerToken.mean - p.randomBitsPerToken.sd));
    assert.deepEqual(byName('random + sd').y, pts.map((p) => p.randomBitsPerToken.mean + p.randomBitsPerToken.sd));
    assert.ok(pts.some((p) => p.randomBitsPerToken.sd > 0), 'the band has a width somewhere');
    const shapes = await h.chart<{ x0: number; y0: number }[]>('c.layout.shapes');
    assert.equal(shapes[0].y0, prune.baselineBitsPerToken * (1 + prune.tolerance));
    assert.equal(shapes[1].x0, prune.threshold * 100);
    assert.match(await h.page.locator('#info').innerText(), new RegExp(`keeping ${prune.keep} experts per layer prunes ${prune.disabled.length} experts`));
    assert.equal(await h.page.locator('#prune-actions').isVisible(), true);
    assert.equal(await h.page.locator('#prune-use').isVisible(), false, 'nothing exported yet');
    assert.deepEqual(h.errors, []);
  });

  it('its buttons post pruneAction; "Use Exported Model" once a model was exported', async () => {
    await h.open('light');
    await h.send({ ...pruningMessage(), exported: 'embedded-reap-12of16' });
    await h.waitForChart('c.data.length >= 6');
    await h.clearPosted();
    await h.page.locator('#prune-apply').click();
    await h.page.locator('#prune-export').click();
    await h.page.locator('#prune-use').click();
    const actions = (await h.posted()).filter((m) => m.type === 'pruneAction').map((m) => (m as { action: string }).action);
    assert.deepEqual(actions, ['applySteering', 'export', 'useExported']);
  });

  it('the importance heatmap: scores per layer × expert, the pruned experts crossed', async () => {
    await h.open('dark', { view: 'importance', metric: 'expert', layer: 0, windowStart: 0 });
    await h.send({ ...pruningMessage(), quiet: true });
    await h.waitForChart(`d.type === 'heatmap'`);
    assert.deepEqual(await h.chart<number[][]>('c.data[0].z'), importance.scores);
    const marks = await h.chart<{ x: number[]; y: number[] }>('({ x: c.data[1].x, y: c.data[1].y })');
    assert.deepEqual(marks.y.map((l, i) => [l, marks.x[i]]), prune.disabled);
    assert.equal(await h.page.locator('#prune-actions').isVisible(), false);
  });

  it('the offloading view: LRU hit rate vs C per layer, SCH marked at the SCH cache size, SRP in the legend', async () => {
    await h.open('dark');
    await h.send({ type: 'offload', result: offload, caption: 'the embedded model · fib.py' });
    await h.waitForChart(`c.data.length === ${2 * offload.layers.length}`);
    const data = await h.chart<{ name: string; x: number[]; y: number[] }[]>('c.data.map((d) => ({ name: d.name, x: d.x, y: d.y }))');
    const E = offload.layers[0].lruHitRate.length;
    offload.layers.forEach((l, i) => {
      assert.deepEqual(data[2 * i].y, l.lruHitRate);
      assert.deepEqual(data[2 * i].x, Array.from({ length: E }, (_, c) => c + 1));
      assert.match(data[2 * i].name, new RegExp(`SRP ${l.srp.toFixed(2)} · SCH ${l.sch.toFixed(2)}`));
      assert.deepEqual([data[2 * i + 1].x, data[2 * i + 1].y], [[offload.schCache], [l.sch]]);
    });
    assert.deepEqual(h.errors, []);
  });

  it('a malformed pruning message is ignored with a warning; the view keeps what it had', async () => {
    await h.open('dark');
    await h.send({ type: 'offload', result: offload, caption: 'c' });
    await h.waitForChart();
    await h.send({ type: 'pruning', result: { ...prune, curve: [] }, caption: 'c' });
    await h.page.waitForTimeout(100);
    assert.ok(h.warnings.some((w) => /ignored a malformed or unknown message \(type pruning\)/.test(w)));
    assert.equal(await h.chart<number>('c.data.length'), 2 * offload.layers.length);
  });

  it('in a 300 px sidebar: the short titles, the buttons wrap inside the width', async () => {
    await h.open('dark', undefined, { width: 300, height: 640 });
    await h.send(pruningMessage());
    await h.waitForChart('c.data.length >= 6');
    assert.match(await h.chart<string>('c.layout.title.text'), new RegExp(`^Bits/token · threshold ${(prune.threshold * 100).toFixed(1)}%$`));
    const overflow = await h.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the panel scrolls sideways by ${overflow} px`);
    await h.page.screenshot({ path: join(shots, 'pruning-curve-sidebar.png') });
    await h.send({ type: 'offload', result: offload, caption: 'c' });
    await h.waitForChart(`c.data.length === ${2 * offload.layers.length}`);
    assert.equal(await h.chart<string>('c.layout.title.text'), 'LRU hit rate vs cache size');
    await h.page.screenshot({ path: join(shots, 'offloading-sidebar.png') });
    assert.deepEqual(h.errors, []);
  });

  for (const theme of ['light', 'dark', 'high-contrast'] as ThemeName[]) {
    it(`screenshots of the three charts (${theme}); theme colours, no hard-wired ones`, async () => {
      await h.open(theme, undefined, { width: 820, height: 600 });
      await h.send(pruningMessage());
      await h.waitForChart('c.data.length >= 6');
      const bg = await h.chart<string>('c.layout.paper_bgcolor');
      assert.equal(bg, (await h.page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--vscode-editor-background'))).trim());
      await h.page.waitForTimeout(150);
      await h.page.screenshot({ path: join(shots, `pruning-curve-${theme}.png`) });
      await h.choose('view', 'Expert importance');
      await h.waitForChart(`d.type === 'heatmap'`);
      await h.page.waitForTimeout(150);
      await h.page.screenshot({ path: join(shots, `pruning-importance-${theme}.png`) });
      await h.send({ type: 'offload', result: offload, caption: 'the embedded model · fib.py' });
      await h.waitForChart(`c.data.length === ${2 * offload.layers.length}`);
      await h.page.waitForTimeout(150);
      await h.page.screenshot({ path: join(shots, `offloading-${theme}.png`) });
      assert.deepEqual(h.errors, []);
    });
  }
});

// The routing panel in the sidebar: every view at 250, 350 and 600 px wide (VS Code's sidebar starts at 170 px; 250 is
// a narrow but usual width). Asserted on layout, not by eye: no element sticks out of its container unless that
// container scrolls, the page itself never scrolls sideways, tick labels never overlap, heatmap cells are gap-free and
// at least MIN_CELL_PX wide. Screenshots go to test-results/webview/narrow-*.png.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { StatsResult } from '../../common/protocol';
import { MIN_CELL_PX } from '../../webview/fit';
import { loadFixture, PanelHarness, routingMessage, tiled } from './harness';

const shots = join(process.cwd(), 'test-results', 'webview');
const py = loadFixture('python');

interface Overflow { el: string; right: number; limit: number }

/** Elements whose right edge passes their parent's (1 px slack), skipping what lies inside a scrolling box. */
async function overflows(h: PanelHarness): Promise<{ bad: Overflow[]; pageScroll: number }> {
  return h.page.evaluate(() => {
    const bad: { el: string; right: number; limit: number }[] = [];
    const scrolls = (e: Element) => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
    const name = (e: Element) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${typeof e.className === 'string' && e.className ? `.${e.className.split(' ')[0]}` : ''}`;
    const walk = (e: Element, limit: number): void => {
      for (const c of Array.from(e.children)) {
        if (c.closest('svg') || c.tagName === 'STYLE' || c.tagName === 'SCRIPT') continue;
        const r = c.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue; // hidden
        if (r.right > limit + 1) bad.push({ el: name(c), right: Math.round(r.right), limit: Math.round(limit) });
        // Children of a scrolling box may extend it (that is what the scroll is for); the box itself must fit.
        if (!scrolls(c) && !c.classList.contains('main-svg')) walk(c, Math.min(limit, r.right));
      }
    };
    walk(document.body, document.documentElement.clientWidth);
    return { bad, pageScroll: document.documentElement.scrollWidth - document.documentElement.clientWidth };
  });
}

/** Pairs of x tick labels of the chart whose boxes overlap. */
async function tickOverlaps(h: PanelHarness): Promise<string[]> {
  return h.page.evaluate(() => {
    const boxes = Array.from(document.querySelectorAll('#chart .xtick text')).map((t) => ({ t: t.textContent ?? '', r: t.getBoundingClientRect() })).filter((b) => b.r.width > 0);
    const out: string[] = [];
    for (let i = 1; i < boxes.length; i++) if (boxes[i].r.left < boxes[i - 1].r.right - 0.5) out.push(`${boxes[i - 1].t}|${boxes[i].t}`);
    return out;
  });
}

describe('routing panel in a narrow sidebar (Chromium)', function () {
  this.timeout(120000);
  const h = new PanelHarness();
  let stats: StatsResult;
  before(async () => {
    mkdirSync(shots, { recursive: true });
    const out = spawnSync(process.execPath, [join('dist', 'cli.js'), 'stats', join('test', 'fixtures', 'traces', 'sample.py'), '--json', '--provider', 'cpu'], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    stats = JSON.parse(out.stdout) as StatsResult;
    await h.start();
  });
  after(() => h.stop());

  for (const width of [250, 350, 600]) {
    it(`every view fits ${width} px: nothing overflows, ticks do not overlap, cells are gap-free and wide enough`, async () => {
      await h.open('dark', undefined, { width, height: 640 });
      await h.send({ ...routingMessage(py), result: { ...py.result, steered: true } });
      await h.send({ type: 'steering', rules: [{ layer: 1, expert: 5, mode: 'disable' }] });
      await h.waitForChart();
      await h.page.waitForTimeout(150);
      // Heatmap: gap-free cells of at least MIN_CELL_PX, and the info line says whether it scrolls.
      const cell = await h.chart<number>('c._fullLayout.xaxis.l2p(1) - c._fullLayout.xaxis.l2p(0)');
      assert.ok(cell >= MIN_CELL_PX - 0.01, `cell ${cell} px < ${MIN_CELL_PX}`);
      assert.equal(await h.chart<number>('c.data[0].xgap'), 0);
      const scrollBox = await h.page.evaluate(() => { const s = document.getElementById('chart-scroll')!; return { sw: s.scrollWidth, cw: s.clientWidth }; });
      const info = await h.page.locator('#info').innerText();
      if (scrollBox.sw > scrollBox.cw + 1) assert.match(info, /scroll sideways/);
      else assert.doesNotMatch(info, /scroll sideways/);
      const views = [['heatmap', 'Token × layer heatmap'], ['load', 'Layer × expert load'], ['transitions', 'Expert co-activation'], ['statistics', 'Statistics'], ['contrastive', 'Contrastive experts (ΔP)']] as const;
      await h.send({ type: 'contrastive', rows: [
        { layer: 1, expert: 3, pA: 0.62, pB: 0.05, deltaP: 0.57, label: 'Python · lowercase (self, def)' }, { layer: 0, expert: 9, pA: 0.2, pB: 0.6, deltaP: -0.4, label: 'prose' },
      ], caption: 'A: 120 tokens · B: 140 tokens · disabling the top 2 changes M by 0.410 bits; 2 random experts: 0.030' });
      for (const [view, label] of views) {
        if (view === 'statistics') await h.send({ type: 'statistics', result: stats });
        else if (view !== 'heatmap') await h.choose('view', label);
        if (view !== 'contrastive') await h.waitForChart();
        await h.page.waitForTimeout(200);
        const { bad, pageScroll } = await overflows(h);
        assert.deepEqual(bad, [], `${view} at ${width} px: elements overflow their container`);
        assert.ok(pageScroll <= 0, `${view} at ${width} px: the page scrolls sideways by ${pageScroll} px`);
        if (view !== 'contrastive') assert.deepEqual(await tickOverlaps(h), [], `${view} at ${width} px: x tick labels overlap`);
        await h.page.screenshot({ path: join(shots, `narrow-${width}-${view}.png`), fullPage: true });
      }
      assert.deepEqual(h.errors, []);
    });
  }

  it('a long document at 250 px: the heatmap keeps its minimum cell width and scrolls, and says so', async () => {
    const big = tiled(py, 600);
    await h.open('dark', undefined, { width: 250, height: 560 });
    await h.send(routingMessage(big, 'file:///w/big.py'));
    await h.waitForChart();
    const cell = await h.chart<number>('c._fullLayout.xaxis.l2p(1) - c._fullLayout.xaxis.l2p(0)');
    assert.ok(cell >= MIN_CELL_PX - 0.01, `cell ${cell} px`);
    const s = await h.page.evaluate(() => { const e = document.getElementById('chart-scroll')!; return { sw: e.scrollWidth, cw: e.clientWidth }; });
    assert.ok(s.sw > s.cw, 'the heatmap scrolls sideways');
    assert.match(await h.page.locator('#info').innerText(), new RegExp(`scroll sideways \\(${MIN_CELL_PX} px per token\\)`));
    assert.deepEqual((await overflows(h)).bad, []);
    assert.deepEqual(await tickOverlaps(h), []);
    await h.page.screenshot({ path: join(shots, 'narrow-250-heatmap-long.png') });
  });
});

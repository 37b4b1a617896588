// The routing panel in Chromium, loaded from the same HTML builder and bundle the extension uses, fed with routing
// results recorded from the embedded model (test/fixtures/routing-*.json, see recordFixtures.mjs).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { WINDOW } from '../../webview/routingViews';
import { loadFixture, PanelHarness, routingMessage, THEMES, tiled, type ThemeName } from './harness';

const shots = join(process.cwd(), 'test-results', 'webview');
const py = loadFixture('python');
const ts = loadFixture('typescript');
const L = py.result.model.layers;
const E = py.result.model.experts;

describe('routing panel (Chromium)', function () {
  this.timeout(60000);
  const h = new PanelHarness();
  before(async () => {
    mkdirSync(shots, { recursive: true });
    await h.start();
  });
  after(() => h.stop());

  it('starts with an empty state, says ready, and raises no CSP or script errors', async () => {
    const page = await h.open('dark');
    assert.match(await page.locator('#empty').innerText(), /Open a text document/);
    assert.deepEqual((await h.posted())[0], { type: 'ready' });
    await h.send(routingMessage(py));
    await h.waitForChart();
    assert.deepEqual(h.errors, [], 'console errors (CSP violations show up here)');
  });

  it('heatmap: one column per token and one row per layer, with token text in the hover', async () => {
    await h.open('dark');
    await h.send(routingMessage(py));
    await h.waitForChart();
    const z = await h.chart<number[][]>('c.data[0].z');
    assert.equal(z.length, L);
    assert.ok(z.every((row) => row.length === py.result.tokens));
    // Top-1 expert of token 5 at layer 2, straight from the recorded result.
    assert.equal(z[2][5], py.result.experts[(5 * L + 2) * py.result.model.topK]);
    const hover = await h.chart<string>('c.data[0].text[0][3]');
    const tok3 = JSON.stringify(py.text.slice(py.result.offsets[6], py.result.offsets[7])).slice(1, -1);
    assert.ok(hover.includes(tok3), `${hover} should include ${tok3}`);
    assert.match(await h.page.locator('#info').innerText(), new RegExp(`tokens 0–${py.result.tokens - 1} of ${py.result.tokens}`));
    assert.equal(await h.page.locator('#legend .legend-item').count(), E);
  });

  it('clicking a heatmap cell posts revealToken with that token\'s range', async () => {
    await h.open('dark');
    await h.send(routingMessage(py, 'file:///w/fib.py'));
    await h.waitForChart();
    await h.clearPosted();
    const p = await h.cellPoint(12, 1);
    await h.page.mouse.click(p.x, p.y);
    await h.page.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0);
    const r = py.result;
    assert.deepEqual((await h.posted())[0], { type: 'revealToken', uri: 'file:///w/fib.py', index: 12, start: r.offsets[24], end: r.offsets[25] });
  });

  it('a 4k-token document shows a window, moves it with the buttons and follows the editor selection', async () => {
    const big = tiled(ts, 4096);
    const T = big.result.tokens;
    await h.open('dark');
    // drawing time is measured in the bench, not here (load on the machine would move it)
    await h.send(routingMessage(big, 'file:///w/big.ts'));
    await h.waitForChart();
    assert.ok((await h.chart<number[][]>('c.data[0].z')).every((row) => row.length === WINDOW));
    assert.match(await h.page.locator('#info').innerText(), new RegExp(`tokens 0–${WINDOW - 1} of ${T}`));
    await h.page.locator('#next').click();
    await h.waitForChart(`d.x[0] === ${WINDOW / 2}`);
    // The editor selects text far down: the window jumps there and a rectangle marks the selected tokens.
    const target = 3000;
    await h.send({ type: 'selection', uri: 'file:///w/big.ts', start: big.result.offsets[2 * target], end: big.result.offsets[2 * target + 3] });
    await h.waitForChart(`d.x[0] <= ${target} && d.x[d.x.length - 1] >= ${target}`);
    const shape = await h.chart<{ x0: number; x1: number }>('c.layout.shapes[0]');
    assert.deepEqual([shape.x0, shape.x1], [target - 0.5, target + 1 + 0.5]);
    const state = await h.page.evaluate(() => (window as unknown as { __state: { windowStart: number } }).__state);
    assert.equal(state.windowStart, WINDOW / 2, 'the button move was saved with vscode.setState');
    await h.page.screenshot({ path: join(shots, 'heatmap-4k-window-dark.png') });
  });

  it('load view: clicking an expert and "Disable" posts a steer rule; the legend offers reset at all layers', async () => {
    await h.open('light');
    await h.send(routingMessage(py));
    await h.waitForChart();
    await h.choose('view', 'Layer × expert load');
    await h.waitForChart(`d.z.length === ${L} && d.z[0].length === ${E}`);
    // f_i in percent: each layer's row sums to 100.
    const z = await h.chart<number[][]>('c.data[0].z');
    for (const row of z) assert.ok(Math.abs(row.reduce((a, b) => a + b) - 100) < 1e-6);
    const saved = await h.page.evaluate(() => (window as unknown as { __state: { view: string } }).__state.view);
    assert.equal(saved, 'load');
    await h.clearPosted();
    const p = await h.cellPoint(7, 2);
    await h.page.mouse.click(p.x, p.y);
    await h.page.locator('#expert-menu').waitFor({ state: 'visible' });
    assert.match(await h.page.locator('#expert-menu-title').innerText(), /Expert 7 · layer 2/);
    await h.page.locator('#menu-disable').click();
    assert.deepEqual(await h.posted(), [{ type: 'steer', rule: { layer: 2, expert: 7, mode: 'disable' } }]);
    // The host answers with the new state: the load view rings the disabled expert.
    await h.send({ type: 'steering', rules: [{ layer: 2, expert: 7, mode: 'disable' }] });
    // Wait for the re-render the message causes (the chart already exists, so "any chart" would not wait).
    await h.waitForChart('c.data.some((x) => x.name === "disabled" && x.x.length > 0)');
    const ring = await h.chart<{ x: number[]; y: number[] }>('c.data.find((d) => d.name === "disabled")');
    assert.deepEqual([ring.x, ring.y], [[7], [2]]);
    await h.choose('view', 'Token × layer heatmap');
    await h.clearPosted();
    await h.page.locator('#legend .legend-item[data-expert="4"]').click();
    await h.page.locator('#menu-reset').click();
    assert.deepEqual(await h.posted(), [{ type: 'resetExpert', layer: '*', expert: 4 }]);
  });

  it('ignores malformed, unknown and huge messages and keeps working', async () => {
    await h.open('dark');
    await h.send(routingMessage(py));
    await h.waitForChart();
    const bad = [
      null, 'routing', 12, [], { type: 'unknown' }, { type: 'routing' },
      { ...routingMessage(py), result: { ...py.result, experts: py.result.experts.slice(3) } },
      { type: 'selection', uri: 'x', start: 'a', end: 2 },
      { type: 'contrastive', rows: [{ layer: 'x' }] },
      { type: 'steering', rules: 'all' },
      { type: 'routing', uri: 'u', fileName: 'f', result: { model: { layers: 1e9, experts: 1, topK: 1, name: 'x' }, tokens: 1e9 }, tokenTexts: [] },
      { type: 'clear' },
      { type: 'routing', junk: new Array(100000).fill({ a: 1 }) },
      { type: 'y'.repeat(1_000_000) },
    ];
    for (const m of bad) await h.send(m);
    const ignored = () => h.warnings.filter((w) => w.includes('ignored a malformed')).length;
    for (let i = 0; i < 100 && ignored() < bad.length; i++) await h.page.waitForTimeout(50);
    assert.equal(ignored(), bad.length);
    assert.equal((await h.chart<number[][]>('c.data[0].z'))[0].length, py.result.tokens, 'the chart still shows the document');
    await h.send(routingMessage(ts, 'file:///w/server.ts'));
    await h.waitForChart(`d.z[0].length === ${ts.result.tokens}`);
    assert.deepEqual(h.errors, []);
  });

  it('colours follow the theme variables and change when VS Code switches theme', async () => {
    await h.open('light');
    await h.send(routingMessage(py));
    await h.waitForChart();
    const colours = () => h.chart<[string, string]>('[c.layout.paper_bgcolor, c.layout.font.color]');
    assert.deepEqual(await colours(), [THEMES.light.vars['--vscode-editor-background'], THEMES.light.vars['--vscode-foreground']]);
    // The theme's moeLens.expert0 colour (translucent for the editor) is used opaque in the chart.
    assert.equal(await h.chart<string>('c.data[0].colorscale[0][1]'), '#e6194b');
    await h.setTheme('dark');
    await h.page.waitForFunction((bg) => (document.getElementById('chart') as unknown as { layout: { paper_bgcolor: string } }).layout.paper_bgcolor === bg, THEMES.dark.vars['--vscode-editor-background']);
    assert.deepEqual(await colours(), [THEMES.dark.vars['--vscode-editor-background'], THEMES.dark.vars['--vscode-foreground']]);
  });

  it('co-activation view: an E×E row-normalised matrix for the chosen layer pair', async () => {
    await h.open('dark', { view: 'transitions', metric: 'expert', layer: 1, windowStart: 0 });
    await h.send(routingMessage(py));
    await h.waitForChart(`d.z.length === ${E}`);
    const z = await h.chart<number[][]>('c.data[0].z');
    for (const row of z) {
      const s = row.reduce((a, b) => a + b, 0);
      assert.ok(s === 0 || Math.abs(s - 1) < 1e-9);
    }
    assert.match(await h.chart<string>('c.layout.title.text'), /layer 1 → layer 2/);
    await h.choose('layer', '2 → 3');
    await h.waitForChart();
    await h.page.waitForFunction(() => /layer 2 → layer 3/.test((document.getElementById('chart') as unknown as { layout: { title: { text: string } } }).layout.title.text));
  });

  it('contrastive view: explains itself when empty, ranks ΔP rows, and a row offers steering', async () => {
    await h.open('dark', { view: 'contrastive', metric: 'expert', layer: 0, windowStart: 0 });
    assert.match(await h.page.locator('#empty').innerText(), /No contrastive result yet/);
    const rows = [
      { layer: 1, expert: 3, pA: 0.62, pB: 0.05, deltaP: 0.57, label: 'python' },
      { layer: 0, expert: 9, pA: 0.2, pB: 0.6, deltaP: -0.4 },
      { layer: 2, expert: 1, pA: 0.4, pB: 0.3, deltaP: 0.1 },
    ];
    await h.send({ type: 'contrastive', rows, caption: 'A: 120 tokens · B: 140 tokens' });
    await h.page.locator('table.side-a tbody tr').first().waitFor();
    assert.equal(await h.page.locator('table.side-a tbody tr').count(), 2);
    assert.equal(await h.page.locator('table.side-b tbody tr').count(), 1);
    assert.match(await h.page.locator('table.side-a tbody tr').first().innerText(), /E3\s+python\s+62\.0%\s+5\.0%\s+\+0\.570/);
    await h.clearPosted();
    await h.page.locator('table.side-b tbody tr').first().click();
    await h.page.locator('#menu-force').click();
    assert.deepEqual(await h.posted(), [{ type: 'steer', rule: { layer: 0, expert: 9, mode: 'force' } }]);
  });

  for (const theme of ['light', 'dark', 'high-contrast'] as ThemeName[]) {
    it(`screenshots of every view (${theme})`, async () => {
      await h.open(theme, undefined, { width: 820, height: 520 });
      const steered = { ...py.result, steered: true, baselineExperts: py.result.experts.map((e, i) => (i % 7 === 0 ? (e + 1) % E : e)) };
      await h.send({ ...routingMessage(py), result: steered });
      await h.send({ type: 'selection', uri: `file:///project/${py.source}`, start: py.result.offsets[20], end: py.result.offsets[27] });
      await h.send({ type: 'steering', rules: [{ layer: 1, expert: 5, mode: 'disable' }, { layer: 3, expert: 2, mode: 'force' }] });
      await h.send({ type: 'contrastive', rows: [
        { layer: 1, expert: 3, pA: 0.62, pB: 0.05, deltaP: 0.57, label: 'python' }, { layer: 3, expert: 12, pA: 0.41, pB: 0.12, deltaP: 0.29, label: 'indent' },
        { layer: 0, expert: 9, pA: 0.2, pB: 0.6, deltaP: -0.4, label: 'prose' }, { layer: 2, expert: 1, pA: 0.1, pB: 0.3, deltaP: -0.2 },
      ], caption: 'A: 120 tokens · B: 140 tokens · disabling the top 2 changes M by 0.410 bits; 2 random experts: 0.030' });
      await h.waitForChart();
      for (const [view, label] of [['heatmap', 'Token × layer heatmap'], ['load', 'Layer × expert load'], ['transitions', 'Expert co-activation'], ['contrastive', 'Contrastive experts (ΔP)']] as const) {
        if (view !== 'heatmap') await h.choose('view', label);
        if (view !== 'contrastive') await h.waitForChart();
        await h.page.waitForTimeout(150);
        await h.page.screenshot({ path: join(shots, `${view}-${theme}.png`) });
      }
      await h.choose('view', 'Token × layer heatmap');
      await h.choose('metric', 'Routing change (steering)');
      await h.waitForChart('d.zmax === 1');
      await h.page.screenshot({ path: join(shots, `heatmap-change-${theme}.png`) });
      assert.deepEqual(h.errors, []);
    });
  }
});

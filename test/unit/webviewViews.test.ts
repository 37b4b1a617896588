import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { RoutingResult } from '../../common/protocol';
import { topKChanged } from '../../common/routingLayout';
import { ruleFor } from '../../common/steeringRules';
import { clampWindow, contrastiveSplit, heatmapMatrix, layerLoads, tokensInRange, transitions, WINDOW, windowAround, windowRange } from '../../webview/routingViews';
import { opaque, themeKind } from '../../webview/theme';
import { tokenLabel } from '../../webview/charts';

/** 3 tokens, 2 layers, 4 experts, top-2; experts token-major: [(t*L + l)*K + k]. */
function tiny(): RoutingResult {
  return {
    model: { name: 'tiny', layers: 2, experts: 4, topK: 2, executionProvider: 'cpu', contextLength: 16, vocabSize: 10 },
    version: 1, tokens: 3, offsets: [0, 3, 3, 4, 6, 9], ids: [1, 2, 3],
    experts: [0, 1, 2, 3, /* t1 */ 0, 2, 2, 3, /* t2 */ 1, 0, 3, 2],
    weights: [0.6, 0.4, 0.7, 0.3, 0.5, 0.5, 0.9, 0.1, 0.8, 0.2, 0.6, 0.4],
    entropy: [1, 1.1, 0.5, 0.6, 0.2, 0.3], surprisal: [0, 3, 4], steered: false, windows: 1, truncated: false, elapsedMs: 0,
  };
}

describe('webview views: pure computations', () => {
  it('heatmapMatrix gives L rows of n columns for each metric', () => {
    const r = tiny();
    assert.deepEqual(heatmapMatrix(r, 'expert', 0, 3), [[0, 0, 1], [2, 2, 3]]);
    assert.deepEqual(heatmapMatrix(r, 'gate', 1, 2), [[0.5, 0.8], [0.9, 0.6]]);
    assert.deepEqual(heatmapMatrix(r, 'entropy', 0, 1), [[1], [1.1]]);
    assert.deepEqual(heatmapMatrix(r, 'change', 0, 3), [[0, 0, 0], [0, 0, 0]], 'nothing steered: no change');
  });

  it('routing change is 1 only where the top-k set differs (order inside the set does not count)', () => {
    const r = { ...tiny(), steered: true, baselineExperts: [1, 0, 2, 3, 0, 3, 2, 3, 1, 0, 3, 2] };
    assert.equal(topKChanged(r, 0, 0), false, '{0,1} vs {1,0}');
    assert.equal(topKChanged(r, 1, 0), true, '{0,2} vs {0,3}');
    assert.deepEqual(heatmapMatrix(r, 'change', 0, 3), [[0, 1, 0], [0, 0, 0]]);
  });

  it('layerLoads: f sums to 1, p is the gate-weight share, LBL = N·Σ f·p, dead experts listed', () => {
    const [l0, l1] = layerLoads(tiny());
    // layer 0 slots: t0 {0,1}, t1 {0,2}, t2 {1,0} -> expert 0: 3/6, 1: 2/6, 2: 1/6, 3: 0
    assert.deepEqual(l0.f.map((v) => +v.toFixed(6)), [0.5, +(2 / 6).toFixed(6), +(1 / 6).toFixed(6), 0]);
    // gate mass at layer 0: e0 = .6+.5+.2 = 1.3, e1 = .4+.8 = 1.2, e2 = .5; total 3
    assert.deepEqual(l0.p!.map((v) => +v.toFixed(6)), [+(1.3 / 3).toFixed(6), 0.4, +(0.5 / 3).toFixed(6), 0]);
    const lbl = 4 * (0.5 * (1.3 / 3) + (2 / 6) * 0.4 + (1 / 6) * (0.5 / 3));
    assert.ok(Math.abs(l0.lbl! - lbl) < 1e-12);
    assert.deepEqual(l0.dead, [3]);
    assert.deepEqual(l1.dead, [0, 1]);
    for (const l of layerLoads(tiny())) assert.ok(Math.abs(l.f.reduce((a, b) => a + b) - 1) < 1e-12);
  });

  it('perfectly even routing has LBL 1', () => {
    const r = { ...tiny(), tokens: 2, offsets: [0, 1, 1, 2], ids: [0, 0], surprisal: [0, 0], entropy: [0, 0, 0, 0], experts: [0, 1, 0, 1, 2, 3, 2, 3], weights: new Array(8).fill(0.5) };
    for (const l of layerLoads(r)) assert.ok(Math.abs(l.lbl! - 1) < 1e-12, String(l.lbl));
  });

  it('transitions are row-normalised counts of top-1 at l -> l+1; empty rows stay 0', () => {
    const m = transitions(tiny(), 0);
    assert.deepEqual(m[0], [0, 0, 1, 0], 'top-1 0 at layer 0 (t0, t1) -> 2 at layer 1 both times');
    assert.deepEqual(m[1], [0, 0, 0, 1]);
    assert.deepEqual(m[3], [0, 0, 0, 0]);
    assert.deepEqual(transitions(tiny(), 1), Array.from({ length: 4 }, () => [0, 0, 0, 0]), 'no layer after the last');
  });

  it('windows stay inside the document and hold at most WINDOW tokens', () => {
    assert.equal(WINDOW <= 512, true);
    assert.deepEqual(windowRange(0, 100), { start: 0, n: 100 });
    assert.deepEqual(windowRange(3000, 4096), { start: 3000, n: WINDOW });
    assert.deepEqual(windowRange(5000, 4096), { start: 4096 - WINDOW, n: WINDOW });
    assert.equal(clampWindow(-20, 4096), 0);
    assert.equal(windowAround(2000, 4096), 2000 - WINDOW / 4);
    assert.equal(windowAround(10, 4096), 0);
    assert.equal(windowAround(4095, 4096), 4096 - WINDOW);
  });

  it('tokensInRange finds the tokens a selection overlaps; a cursor counts as its token', () => {
    const r = tiny(); // tokens [0,3) [3,4) [6,9); a gap at 4..6
    assert.deepEqual(tokensInRange(r, 1, 1), [0, 0]);
    assert.deepEqual(tokensInRange(r, 2, 7), [0, 2]);
    assert.deepEqual(tokensInRange(r, 3, 4), [1, 1]);
    assert.equal(tokensInRange(r, 4, 6), undefined);
    assert.equal(tokensInRange(r, 50, 60), undefined);
  });

  it('ruleFor prefers a layer rule over a "*" rule', () => {
    const rules = [{ layer: '*' as const, expert: 3, mode: 'disable' as const }, { layer: 1, expert: 3, mode: 'force' as const }];
    assert.equal(ruleFor(rules, 0, 3)?.mode, 'disable');
    assert.equal(ruleFor(rules, 1, 3)?.mode, 'force');
    assert.equal(ruleFor(rules, 1, 2)?.mode, undefined);
  });

  it('contrastiveSplit: A head by ΔP descending, B tail most negative first', () => {
    const row = (expert: number, deltaP: number) => ({ layer: 0, expert, pA: 0, pB: 0, deltaP });
    const { a, b } = contrastiveSplit([row(1, 0.1), row(2, -0.3), row(3, 0.4), row(4, 0), row(5, -0.1)], 5);
    assert.deepEqual(a.map((r) => r.expert), [3, 1]);
    assert.deepEqual(b.map((r) => r.expert), [2, 5]);
  });

  it('theme helpers: opaque strips alpha, themeKind reads the body classes', () => {
    assert.equal(opaque('#e6194b66'), '#e6194b');
    assert.equal(opaque('#abcd'), '#abc');
    assert.equal(opaque(' #123456 '), '#123456');
    assert.equal(opaque('rgb(1, 2, 3)'), 'rgb(1, 2, 3)');
    assert.equal(themeKind(['vscode-light']), 'light');
    assert.equal(themeKind(['vscode-dark']), 'dark');
    assert.equal(themeKind(['vscode-high-contrast']), 'high-contrast');
    assert.equal(themeKind(['vscode-high-contrast', 'vscode-high-contrast-light']), 'high-contrast-light');
  });

  it('tokenLabel escapes whitespace and HTML', () => {
    assert.equal(tokenLabel('\n  '), '\\n  ');
    assert.equal(tokenLabel('<b>'), '&lt;b&gt;');
    assert.equal(tokenLabel(''), '∅');
    assert.equal(tokenLabel('x'.repeat(100)).length, 40);
  });

  it('the recorded fixture: loads sum to 1 per layer and the heatmap covers every token', () => {
    const { result: r } = JSON.parse(readFileSync('test/fixtures/routing-python.json', 'utf8')) as { result: RoutingResult };
    const loads = layerLoads(r);
    assert.equal(loads.length, r.model.layers);
    for (const l of loads) {
      assert.ok(Math.abs(l.f.reduce((a, b) => a + b) - 1) < 1e-9);
      assert.ok(Math.abs(l.p!.reduce((a, b) => a + b) - 1) < 1e-9);
      assert.ok(l.lbl! > 0 && l.lbl! <= r.model.experts);
    }
    const z = heatmapMatrix(r, 'expert', 0, r.tokens);
    assert.equal(z.length, r.model.layers);
    assert.ok(z.every((row) => row.length === r.tokens && row.every((e) => Number.isInteger(e) && e! >= 0 && e! < r.model.experts)));
  });

  it('a trace result: absent metrics and unrecorded tokens are gaps (null), never zeros; loads skip them', () => {
    const r: RoutingResult = { ...tiny(), absent: ['weights', 'entropy', 'surprisal'], notRecorded: [0] };
    assert.ok(heatmapMatrix(r, 'gate', 0, 3).every((row) => row.every((v) => v === null)));
    assert.ok(heatmapMatrix(r, 'entropy', 0, 3).every((row) => row.every((v) => v === null)));
    const z = heatmapMatrix(r, 'expert', 0, 3);
    assert.deepEqual(z.map((row) => row[0]), [null, null]);
    assert.deepEqual(z[0].slice(1), heatmapMatrix(tiny(), 'expert', 1, 2)[0]);
    const [l0] = layerLoads(r);
    assert.equal(l0.p, null);
    assert.equal(l0.lbl, null);
    // layer 0 without t0: t1 {0,2}, t2 {1,0} -> 2/4, 1/4, 1/4, 0
    assert.deepEqual(l0.f, [0.5, 0.25, 0.25, 0]);
  });
});

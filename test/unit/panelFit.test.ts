// webview/fit.ts: how the panel's charts size themselves to the sidebar's or the editor's width.
import assert from 'node:assert/strict';
import { chartMargins, heatmapWidth, MIN_CELL_PX, plotWidth, SCALE_PX, tickStep } from '../../webview/fit';

describe('panel chart fitting', () => {
  it('the heatmap scrolls exactly when its tokens do not fit at MIN_CELL_PX each', () => {
    const m = chartMargins(230);
    assert.deepEqual(heatmapWidth(20, 230, m, false), { width: 230, scrolls: false });
    const wide = heatmapWidth(107, 230, m, false);
    assert.equal(wide.scrolls, true);
    assert.equal(wide.width, m.l + m.r + 107 * MIN_CELL_PX);
    // a colour bar takes room too
    assert.equal(heatmapWidth(107, 2000, m, true).scrolls, false);
    assert.equal(plotWidth(600, m, true), 600 - m.l - m.r - SCALE_PX);
  });

  it('compact margins in the sidebar, the roomy ones beside the editor', () => {
    assert.equal(chartMargins(250).l, 40);
    assert.equal(chartMargins(900).l, 64);
    assert.equal(chartMargins(900, { left: 104 }).l, 104);
  });

  it('tick steps: every expert when there is room, fewer as the plot narrows, never overlapping labels', () => {
    assert.equal(tickStep(16, 700, 3, 13), 1);
    const narrow = tickStep(16, 120, 3, 13);
    assert.ok(narrow >= 4, `step ${narrow}`);
    for (const px of [60, 120, 200, 400, 800]) {
      const s = tickStep(16, px, 3, 13);
      assert.ok((16 / s) * (3 * 13 * 0.62 + 6) <= px || s === 100, `${px}px: step ${s}`);
    }
  });
});

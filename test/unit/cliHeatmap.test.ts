import assert from 'node:assert/strict';
import type { RoutingResult } from '../../common/protocol';
import { ansiHeatmap, printable, summaryLine } from '../../server/cli/heatmap';
import { contrast, expertPalette256, luminance, rgbOf256 } from '../../server/cli/palette';

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

describe('CLI heatmap', () => {
  it('xterm-256 colours to RGB', () => {
    assert.deepEqual(rgbOf256(16), [0, 0, 0]);
    assert.deepEqual(rgbOf256(196), [255, 0, 0]);
    assert.deepEqual(rgbOf256(33), [0, 135, 255]);
    assert.deepEqual(rgbOf256(231), [255, 255, 255]);
    assert.deepEqual(rgbOf256(244), [128, 128, 128]);
  });
  it('16 distinct backgrounds, each with a foreground of WCAG contrast ≥ 4.5', () => {
    const p = expertPalette256(16);
    assert.equal(new Set(p.map((c) => c.bg)).size, 16);
    for (const { bg, fg } of p) {
      const ratio = contrast(luminance(rgbOf256(bg)), luminance(rgbOf256(fg)));
      assert.ok(ratio >= 4.5, `bg ${bg} fg ${fg}: contrast ${ratio.toFixed(2)}`);
    }
    assert.equal(expertPalette256(64).length, 64);
  });
  it('control characters cannot drive the terminal', () => {
    assert.equal(printable('a\x1b[31mb', 0, 7), 'a\u241b[31mb');
    assert.equal(printable('x\r\ny\rz\u0000\u007f\u0085\t', 0, 10), 'x\ny\u240dz\u2400\u2421\ufffd\t');
    assert.equal(printable('héllo 😀', 1, 8), 'éllo 😀');
  });
  it('colours each token by its top-1 expert and reports shares', () => {
    // 3 tokens, 2 layers, top-2: layer 1 top-1 experts are 2, 2, 5
    const r: RoutingResult = {
      model: { name: 'm', layers: 2, experts: 16, topK: 2, executionProvider: 'cpu', contextLength: 8, vocabSize: 10 },
      version: 0, tokens: 3, offsets: [0, 2, 2, 5, 5, 6], ids: [1, 2, 3],
      experts: [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 5, 3], weights: new Array(12).fill(0.5), entropy: new Array(6).fill(0), surprisal: [0, 1, 1],
      steered: false, windows: 1, truncated: false, elapsedMs: 7,
    };
    const out = ansiHeatmap('ab\ncd\n', r, 1);
    const p = expertPalette256(16);
    assert.ok(out.startsWith(`\x1b[48;5;${p[2].bg};38;5;${p[2].fg}mab\x1b[0m\n\x1b[48;5;${p[2].bg};38;5;${p[2].fg}mcd\x1b[0m\n`), JSON.stringify(out));
    const plain = strip(out);
    assert.match(plain, /top-1 expert at layer 1/);
    assert.match(plain, / E 2 \s+66\.7%/);
    assert.match(plain, / E 5 \s+33\.3%/);
    assert.match(plain, / E15 \s+0\.0%/);
    assert.equal(summaryLine(r), 'm · cpu · 3 tokens · 7 ms');
    assert.equal(summaryLine({ ...r, windows: 2, truncated: true }), 'm · cpu · 3 tokens · 7 ms · 2 windows of 8 tokens, truncated at 3 tokens');
  });
});

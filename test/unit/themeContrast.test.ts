// The editor heatmap's dark-theme backgrounds (package.json contributes.colors, translucent over the editor) against
// the text drawn on them, by WCAG 2.x contrast: the editor foreground of Dark Modern (#cccccc) and Dark+ (#d4d4d4)
// at AA for normal text (4.5:1), and every token colour of those themes (comments, strings, keywords, …) at least
// 3:1. A full 4.5:1 for comments (#6a9955, 4.95:1 on the bare background) would leave tints too pale to tell 16
// experts apart; the README says so.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { contributes: { colors: { id: string; defaults: { dark: string } }[] } };

const rgba = (hex: string) => {
  const h = hex.replace('#', '');
  return { rgb: [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)), a: h.length === 8 ? parseInt(h.slice(6, 8), 16) / 255 : 1 };
};
/** WCAG relative luminance of sRGB 0–255 */
const luminance = (rgb: number[]) => {
  const [r, g, b] = rgb.map((v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
export const contrast = (a: number[], b: number[]) => {
  const [x, y] = [luminance(a), luminance(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
};
const over = (fg: string, bg: string) => {
  const { rgb, a } = rgba(fg);
  return rgb.map((v, i) => a * v + (1 - a) * rgba(bg).rgb[i]);
};

const BACKGROUNDS = { 'Dark Modern': '#1f1f1f', 'Dark+': '#1e1e1e' };
const FOREGROUNDS = ['#cccccc', '#d4d4d4'];
const TOKENS = { comment: '#6a9955', string: '#ce9178', keyword: '#569cd6', control: '#c586c0', function: '#dcdcaa', number: '#b5cea8', type: '#4ec9b0', variable: '#9cdcfe' };

describe('heatmap colours: dark-theme contrast (WCAG)', () => {
  it('the formula: black on white is 21:1, a colour on itself 1:1', () => {
    assert.equal(Math.round(contrast([0, 0, 0], [255, 255, 255])), 21);
    assert.equal(contrast([10, 20, 30], [10, 20, 30]), 1);
  });

  for (const c of manifest.contributes.colors) {
    it(`${c.id} (${c.defaults.dark}): editor text ≥ 4.5:1, every token colour ≥ 3:1`, () => {
      for (const [theme, bg] of Object.entries(BACKGROUNDS)) {
        const cell = over(c.defaults.dark, bg);
        for (const fg of FOREGROUNDS) assert.ok(contrast(rgba(fg).rgb, cell) >= 4.5, `${theme}: ${fg} on ${c.id} is ${contrast(rgba(fg).rgb, cell).toFixed(2)}:1`);
        for (const [name, fg] of Object.entries(TOKENS)) assert.ok(contrast(rgba(fg).rgb, cell) >= 3, `${theme}: ${name} ${fg} on ${c.id} is ${contrast(rgba(fg).rgb, cell).toFixed(2)}:1`);
      }
    });
  }
});

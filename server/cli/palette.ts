/**
 * Distinct xterm-256 background colours for experts, each with the foreground (black or white) that reads best on it.
 * The first 16 are hand-picked to differ in hue and lightness; beyond that the 6×6×6 colour cube is walked in steps
 * that keep neighbours apart.
 */
const HAND_PICKED = [196, 33, 34, 226, 93, 208, 51, 201, 130, 19, 154, 218, 30, 88, 147, 100];

/** The xterm cube's channel levels: index 0..5 -> 0, 95, 135, 175, 215, 255. */
const LEVELS = [0, 95, 135, 175, 215, 255];

/** RGB (0–255) of an xterm-256 colour from the cube (16–231) or the grey ramp (232–255). */
export function rgbOf256(index: number): [number, number, number] {
  if (index >= 232) {
    const v = 8 + 10 * (index - 232);
    return [v, v, v];
  }
  const c = index - 16;
  return [LEVELS[Math.floor(c / 36)], LEVELS[Math.floor(c / 6) % 6], LEVELS[c % 6]];
}

/** WCAG relative luminance of an sRGB colour. */
export function luminance([r, g, b]: [number, number, number]): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG contrast ratio between two luminances (1–21). */
export const contrast = (a: number, b: number): number => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);

const BLACK = 16;
const WHITE = 231;

export function expertPalette256(n: number): { bg: number; fg: number }[] {
  const out: { bg: number; fg: number }[] = [];
  for (let i = 0; i < n; i++) {
    const bg = i < HAND_PICKED.length ? HAND_PICKED[i] : 16 + ((i * 37) % 216);
    const l = luminance(rgbOf256(bg));
    out.push({ bg, fg: contrast(l, 0) >= contrast(l, 1) ? BLACK : WHITE });
  }
  return out;
}

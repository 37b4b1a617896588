/**
 * Distinct xterm-256 background colours for experts, each with a readable foreground. The first 16 are hand-picked
 * to be told apart (hue steps with alternating lightness); beyond that the 6×6×6 cube is walked.
 */
const HAND_PICKED = [196, 33, 40, 226, 129, 208, 51, 201, 94, 27, 118, 220, 99, 166, 37, 213];

export function expertPalette256(n: number): { bg: number; fg: number }[] {
  const out: { bg: number; fg: number }[] = [];
  for (let i = 0; i < n; i++) {
    const bg = i < HAND_PICKED.length ? HAND_PICKED[i] : 16 + ((i * 37) % 216);
    const c = bg - 16;
    const [r, g, b] = [Math.floor(c / 36), Math.floor(c / 6) % 6, c % 6];
    const light = 0.3 * r + 0.59 * g + 0.11 * b > 2.4;
    out.push({ bg, fg: light ? 16 : 231 });
  }
  return out;
}

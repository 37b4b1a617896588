// How the panel's charts fit the width they get (the sidebar can be 250 px, the editor 1200): pure sizing maths,
// unit-tested, used by charts.ts and main.ts. No DOM.

/**
 * Narrowest heatmap column. Below it a token's cell is a hairline and Plotly's gaps would outweigh the colour (the
 * pale stripes a 250 px sidebar showed at 107 tokens): a wider document scrolls sideways instead.
 */
export const MIN_CELL_PX = 6;

/** Below this width the charts use their compact margins and tick texts. */
export const NARROW_PX = 420;

export interface Margins { l: number; r: number; t: number; b: number }

/** Plot margins for a width: compact in the sidebar, roomy beside the editor. `scale`: room for a colour bar. */
export function chartMargins(width: number, opts: { left?: number; scale?: boolean } = {}): Margins {
  const narrow = width < NARROW_PX;
  const l = narrow ? Math.min(opts.left ?? 64, 40) : opts.left ?? 64;
  return { l, r: opts.scale ? (narrow ? 8 : 16) : 16, t: 36, b: 44 };
}

/** Width the colour bar and its tick labels take to the right of the plot (thickness 12 + labels), 0 without one. */
export const SCALE_PX = 56;

/**
 * Width of the token × layer heatmap: the container's, or more (scroll) when `tokens` columns of MIN_CELL_PX do not
 * fit. `scrolls` says which, so the panel can tell the user.
 */
export function heatmapWidth(tokens: number, container: number, m: Margins, scale: boolean): { width: number; scrolls: boolean } {
  const chrome = m.l + m.r + (scale ? SCALE_PX : 0);
  const need = chrome + tokens * MIN_CELL_PX;
  return need > container ? { width: Math.ceil(need), scrolls: true } : { width: container, scrolls: false };
}

const NICE = [1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100];

/**
 * Tick step for `count` categories (experts, layers) over `plotPx` pixels when the longest label is `chars` characters:
 * the smallest "nice" step whose labels do not touch (so 16 experts show every one beside the editor, every 4th in
 * a 250 px sidebar).
 */
export function tickStep(count: number, plotPx: number, chars: number, fontSize: number): number {
  const label = chars * fontSize * 0.62 + 6; // a label's width in px (system-ui digits ≈ 0.55–0.6 em) plus a gap
  for (const s of NICE) if ((count / s) * label <= plotPx) return s;
  return NICE[NICE.length - 1];
}

/** The plot area's width: the chart's width less the margins and the colour bar. */
export function plotWidth(width: number, m: Margins, scale: boolean): number {
  return Math.max(1, width - m.l - m.r - (scale ? SCALE_PX : 0));
}

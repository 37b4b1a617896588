// Plotly figures (data + layout) of the panel's three chart views, built from a routing result and a theme.
// Pure: no DOM; main.ts hands them to Plotly.react.
import type { RoutingResult, SteeringRule } from '../common/protocol';
import { HEATMAP_METRICS } from '../common/heatmapMetrics';
import { has, NOT_IN_TRACE, NOT_RECORDED, notRecordedSet } from '../common/routingSource';
import type { PanelMetric } from '../common/webviewMessages';
import { layerIndex, slotIndex, topKAt } from '../common/routingLayout';
import { ruleFor } from '../common/steeringRules';
import { heatmapMatrix, layerLoads, transitions } from './routingViews';
import { discreteScale, type Theme } from './theme';
import { chartMargins, heatmapWidth, NARROW_PX, plotWidth, tickStep } from './fit';

export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
  /** the heatmap is wider than its container (MIN_CELL_PX per token): the panel scrolls it and says so */
  scrolls?: boolean;
}

/** Width the panel gives a chart when it does not say (the editor-side panel's usual width). */
export const DEFAULT_WIDTH = 800;

export function baseLayout(t: Theme, title: string, width = DEFAULT_WIDTH): Record<string, unknown> {
  return {
    // Titles are SVG text, which Plotly clips rather than wraps: the sidebar gets the short form.
    title: { text: title, font: { size: t.fontSize + 1, color: t.foreground }, x: 0, xanchor: 'left', xref: 'paper' },
    paper_bgcolor: t.background,
    plot_bgcolor: t.background,
    font: { color: t.foreground, family: t.font, size: t.fontSize },
    margin: chartMargins(width),
    hoverlabel: { bgcolor: t.background, bordercolor: t.foreground, font: { color: t.foreground, family: t.font, size: t.fontSize } },
    dragmode: false,
  };
}

export function axis(t: Theme, title: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { title: { text: title, font: { color: t.foreground } }, gridcolor: t.grid, zeroline: false, linecolor: t.grid, tickcolor: t.grid, color: t.foreground, tickfont: { color: t.foreground }, fixedrange: true, ...extra };
}

export function colorbar(t: Theme, title: string): Record<string, unknown> {
  return { title: { text: title, font: { color: t.foreground } }, tickfont: { color: t.foreground }, outlinecolor: t.grid, thickness: 12 };
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A token's text for a hover label: whitespace and control characters escaped, HTML-safe, at most 40 characters. */
export function tokenLabel(text: string | undefined): string {
  const shown = JSON.stringify(text ?? '').slice(1, -1);
  return escapeHtml(shown.length > 40 ? `${shown.slice(0, 39)}…` : shown) || '∅';
}

const label = (r: RoutingResult, l: number, e: number) => {
  const s = r.model.labels?.[l]?.[e];
  return s ? ` (${escapeHtml(s)})` : '';
};

/** `width`: the container's width in px; the figure is that wide, or wider (it scrolls) at MIN_CELL_PX per token. */
export function heatmapFigure(t: Theme, r: RoutingResult, metric: PanelMetric, start: number, n: number, tokenTexts: readonly string[], selection?: [number, number], width = DEFAULT_WIDTH): Figure {
  const { layers: L, topK: K, experts: E } = r.model;
  const z = heatmapMatrix(r, metric, start, n);
  const x = Array.from({ length: n }, (_, i) => start + i);
  const skip = notRecordedSet(r);
  const [weights, entropy] = [has(r, 'weights'), has(r, 'entropy')];
  const hover = z.map((row, l) =>
    row.map((_, i) => {
      const tok = start + i;
      const base = slotIndex(r.model, tok, l);
      const head = `token ${tok} “${tokenLabel(tokenTexts[tok])}” · layer ${l}`;
      if (skip.has(tok)) return `${head}<br>routing ${NOT_RECORDED} by the engine`;
      const parts: string[] = [];
      for (let k = 0; k < K; k++) parts.push(`E${r.experts[base + k]}${label(r, l, r.experts[base + k])}${weights ? ` ${r.weights[base + k].toFixed(2)}` : ''}`);
      const was = r.baselineExperts && metric === 'change' ? `<br>unsteered: ${topKAt(r.baselineExperts, r.model, tok, l).map((e) => `E${e}`).join(', ')}` : '';
      const ent = entropy ? `entropy ${r.entropy[layerIndex(r.model, tok, l)].toFixed(2)} nats` : `weights and entropy ${NOT_IN_TRACE}`;
      return `${head}<br>${parts.join('<br>')}<br>${ent}${was}`;
    }),
  );
  const spec = HEATMAP_METRICS[metric];
  const categorical = spec.scale === 'categorical';
  const [min, max] = spec.range(r.model);
  const trace: Record<string, unknown> = {
    type: 'heatmap',
    z,
    x,
    y: Array.from({ length: L }, (_, l) => l),
    text: hover,
    hoverinfo: 'text',
    // Gap-free columns: a 1 px gap between 2 px cells was the "pale hairline stripes" of a narrow sidebar.
    xgap: 0,
    ygap: 2,
    // The categorical metric has its own clickable HTML legend (ids and labels); the others a colour bar.
    showscale: !categorical,
    // A binary metric: cells at 0 in the grid colour keep the rows visible, those at 1 stand out.
    colorscale: categorical ? discreteScale(t.experts.slice(0, E)) : spec.scale === 'binary' ? [[0, t.grid], [0.5, t.grid], [0.5, t.hot], [1, t.hot]] : [[0, t.background], [1, t.accent]],
    zmin: categorical ? -0.5 : min,
    zmax: categorical ? E - 0.5 : max,
    colorbar: spec.scale === 'binary' ? { ...colorbar(t, spec.unit), tickvals: [0.25, 0.75], ticktext: ['same', 'changed'] } : colorbar(t, spec.unit),
  };
  const shapes = selection
    ? [{ type: 'rect', xref: 'x', yref: 'paper', x0: selection[0] - 0.5, x1: selection[1] + 0.5, y0: -0.02, y1: 1.02, line: { color: t.foreground, width: 2 }, fillcolor: 'rgba(0,0,0,0)' }]
    : [];
  const margin = chartMargins(width, { scale: !categorical });
  const fit = heatmapWidth(n, width, margin, !categorical);
  const digits = String(start + n).length;
  const layout = {
    ...baseLayout(t, width < NARROW_PX ? spec.chartTitle : `Token × layer: ${spec.chartTitle}`, width),
    margin,
    width: fit.width,
    // Token-index ticks thin out with the plot's width (Plotly picks nice values up to nticks).
    xaxis: axis(t, 'token index', { showgrid: false, range: [start - 0.5, start + n - 0.5], nticks: Math.max(2, Math.floor(plotWidth(fit.width, margin, !categorical) / (digits * t.fontSize * 0.62 + 16))) }),
    yaxis: axis(t, 'layer', { dtick: 1, autorange: 'reversed', showgrid: false }),
    shapes,
  };
  return { data: [trace], layout, scrolls: fit.scrolls };
}

/** Layer × expert load: f_i in % per cell, LBL per layer on the axis, dead experts ✕, steered experts ringed. */
export function loadFigure(t: Theme, r: RoutingResult, rules: readonly SteeringRule[], width = DEFAULT_WIDTH): Figure {
  const loads = layerLoads(r);
  const { experts: E, layers: L } = r.model;
  const z = loads.map((l) => l.f.map((v) => v * 100));
  const hover = loads.map((ld, l) =>
    ld.f.map((v, e) => {
      const mode = ruleFor(rules, l, e)?.mode;
      const p = ld.p ? `p ≈ ${(ld.p[e] * 100).toFixed(1)}% of gate weight` : `p: gate weights ${NOT_IN_TRACE}`;
      return `layer ${l} · E${e}${label(r, l, e)}<br>f = ${(v * 100).toFixed(1)}% of routed slots (top-${r.model.topK})<br>${p}<br>LBL of the layer ${ld.lbl === null ? '—' : ld.lbl.toFixed(2)}${ld.dead.includes(e) ? '<br><b>dead: f < 0.5%</b>' : ''}${mode ? `<br>steered: ${mode}` : ''}<br>click: disable / force / reset`;
    }),
  );
  const dead = loads.flatMap((l, li) => l.dead.map((e) => ({ x: e, y: li })));
  const steered = (mode: SteeringRule['mode']) => {
    const pts: { x: number; y: number }[] = [];
    for (let l = 0; l < L; l++) for (let e = 0; e < E; e++) if (ruleFor(rules, l, e)?.mode === mode) pts.push({ x: e, y: l });
    return pts;
  };
  const marks = (pts: { x: number; y: number }[], symbol: string, color: string, name: string) => ({
    type: 'scatter', mode: 'markers', name, x: pts.map((p) => p.x), y: pts.map((p) => p.y), marker: { symbol, size: 16, color, line: { color, width: 2.5 } }, hoverinfo: 'skip', showlegend: pts.length > 0,
  });
  const narrow = width < NARROW_PX;
  const margin = { ...chartMargins(width, { left: 104, scale: true }), l: narrow ? 32 : 104, b: 64 };
  const cellText = plotWidth(width, margin, true) / E >= 2.2 * t.fontSize;
  const data = [
    {
      // Cell text: f in whole percent, blank for dead experts (their ✕ says it); the hover has the details.
      type: 'heatmap', z, x: Array.from({ length: E }, (_, e) => e), y: loads.map((_, i) => i), customdata: hover, hovertemplate: '%{customdata}<extra></extra>',
      // Only where a cell is wide enough for two digits (never in a 250 px sidebar: the numbers would run together).
      text: loads.map((ld) => ld.f.map((v, e) => (ld.dead.includes(e) ? '' : (v * 100).toFixed(0)))), texttemplate: cellText ? '%{text}' : '', textfont: { size: Math.max(9, t.fontSize - 2) },
      colorscale: [[0, t.background], [1, t.accent]], zmin: 0, xgap: 2, ygap: 2, colorbar: colorbar(t, '% slots'), showlegend: false,
    },
    marks(dead, 'x-thin-open', t.hot, 'dead (f < 0.5%)'),
    marks(steered('disable'), 'circle-open', t.disabled, 'disabled'),
    marks(steered('force'), 'diamond-open', t.forced, 'forced'),
    marks(steered('bias'), 'square-open', t.muted, 'biased'),
  ];
  // In the sidebar the y ticks say only the layer (the LBL is in each cell's hover) and the expert ticks thin out.
  const layout = {
    ...baseLayout(t, narrow ? 'Load fᵢ (% of routed slots)' : `Layer × expert load fᵢ (% of routed slots, top-${r.model.topK})`, width),
    xaxis: axis(t, '', { dtick: tickStep(E, plotWidth(width, margin, true), String(E - 1).length + 1, t.fontSize), tickprefix: 'E', showgrid: false, range: [-0.5, E - 0.5] }),
    yaxis: axis(t, '', { range: [L - 0.5, -0.5], showgrid: false, tickvals: loads.map((_, i) => i), ticktext: loads.map((l, i) => (narrow ? `L${i}` : `L${i} · LBL ${l.lbl === null ? '—' : l.lbl.toFixed(2)}`)) }),
    margin,
    legend: { orientation: 'h', x: 0, y: -0.12, yanchor: 'top', font: { color: t.foreground }, bgcolor: 'rgba(0,0,0,0)' },
  };
  return { data, layout };
}

export function transitionFigure(t: Theme, r: RoutingResult, layer: number, width = DEFAULT_WIDTH): Figure {
  const m = transitions(r, layer);
  const E = r.model.experts;
  const ids = Array.from({ length: E }, (_, i) => i);
  const data = [
    {
      type: 'heatmap', z: m, x: ids, y: ids, colorscale: [[0, t.background], [1, t.accent]], zmin: 0, zmax: 1, xgap: 1, ygap: 1,
      hovertemplate: `E%{y} at layer ${layer} → E%{x} at layer ${layer + 1}: %{z:.2f}<extra></extra>`, colorbar: colorbar(t, 'P'),
    },
  ];
  const margin = chartMargins(width, { scale: true });
  const step = tickStep(E, plotWidth(width, margin, true), String(E - 1).length, t.fontSize);
  const layout = {
    ...baseLayout(t, width < NARROW_PX ? `Top-1: layer ${layer} → ${layer + 1}` : `Expert co-activation: top-1 at layer ${layer} → layer ${layer + 1}`, width),
    margin,
    xaxis: axis(t, `top-1 expert at layer ${layer + 1}`, { dtick: step, showgrid: false }),
    yaxis: axis(t, `top-1 expert at layer ${layer}`, { dtick: step, autorange: 'reversed', showgrid: false }),
  };
  return { data, layout };
}

// The panel's pruning and offloading charts (docs/PRUNING.md), from the results of `moe-lens prune | importance |
// offload` that the extension ran: held-out bits per token against the kept fraction (the criterion, frequency, the
// random band mean ± sd, merging), importance per layer × expert, and the LRU cache hit rate against its size C per
// layer with SCH marked. Theme colours only (readTheme), as the other charts.
import type { ImportanceResult, OffloadResult, PruneResult } from '../common/pruneProtocol';
import { axis, baseLayout, colorbar, DEFAULT_WIDTH, type Figure } from './charts';
import { chartMargins, NARROW_PX, plotWidth, tickStep } from './fit';
import { translucent, type Theme } from './theme';

const pct = (f: number) => f * 100;

export function pruneCurveFigure(t: Theme, r: PruneResult, width = DEFAULT_WIDTH): Figure {
  const pts = [...r.curve].sort((a, b) => a.keptFraction - b.keptFraction);
  const x = pts.map((p) => pct(p.keptFraction));
  const hi = pts.map((p) => p.randomBitsPerToken.mean + p.randomBitsPerToken.sd);
  const lo = pts.map((p) => p.randomBitsPerToken.mean - p.randomBitsPerToken.sd);
  const line = (name: string, y: number[], color: string, extra: Record<string, unknown> = {}) => ({
    type: 'scatter', mode: 'lines+markers', name, x, y, line: { color, width: 2, ...(extra.dash ? { dash: extra.dash } : {}) }, marker: { color, size: 6 },
    hovertemplate: `${name}: %{y:.4f} bits/token at %{x:.1f}% kept<extra></extra>`,
  });
  const merged = pts.every((p) => p.mergedBitsPerToken !== undefined);
  const data: Record<string, unknown>[] = [
    // The band: the upper edge (no line), then the lower edge filled up to it.
    { type: 'scatter', mode: 'lines', name: 'random + sd', x, y: hi, line: { width: 0, color: t.muted }, hoverinfo: 'skip', showlegend: false },
    { type: 'scatter', mode: 'lines', name: 'random mean ± sd', x, y: lo, fill: 'tonexty', fillcolor: translucent(t.muted, 0.25), line: { width: 0, color: t.muted }, hoverinfo: 'skip' },
    line('random (mean)', pts.map((p) => p.randomBitsPerToken.mean), t.muted, { dash: 'dash' }),
    line('frequency', pts.map((p) => p.frequencyBitsPerToken), t.hot),
    ...(merged ? [line('merged (MC-SMoE)', pts.map((p) => p.mergedBitsPerToken!), t.forced, { dash: 'dot' })] : []),
    line(r.criterion, pts.map((p) => p.bitsPerToken), t.accent),
  ];
  const limit = r.baselineBitsPerToken * (1 + r.tolerance);
  const shapes = [
    { type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y', y0: limit, y1: limit, line: { color: t.foreground, width: 1, dash: 'dot' } },
    { type: 'line', xref: 'x', x0: pct(r.threshold), x1: pct(r.threshold), yref: 'paper', y0: 0, y1: 1, line: { color: t.disabled, width: 1.5, dash: 'dash' } },
  ];
  const narrow = width < NARROW_PX;
  const margin = { ...chartMargins(width), b: narrow ? 96 : 80 };
  return {
    data,
    layout: {
      ...baseLayout(t, narrow ? `Bits/token · threshold ${pct(r.threshold).toFixed(1)}%` : `Held-out bits per token vs experts kept · threshold ${pct(r.threshold).toFixed(1)}% kept (≤ ${pct(r.tolerance).toFixed(1)}% rise)`, width),
      margin,
      xaxis: axis(t, 'experts kept per layer (%)', { ticksuffix: '%', range: [Math.min(...x) - 4, 104] }),
      yaxis: axis(t, 'bits per token', {}),
      shapes,
      legend: { orientation: 'h', x: 0, y: narrow ? -0.3 : -0.2, yanchor: 'top', font: { color: t.foreground }, bgcolor: 'rgba(0,0,0,0)' },
    },
  };
}

/** Importance per layer × expert; the pruned experts (when a pruning is shown) crossed out. */
export function importanceFigure(t: Theme, r: ImportanceResult, pruned: readonly (readonly [number, number])[] = [], width = DEFAULT_WIDTH): Figure {
  const L = r.scores.length;
  const E = r.scores[0].length;
  const margin = { ...chartMargins(width, { left: 48, scale: true }), b: 56 };
  const step = tickStep(E, plotWidth(width, margin, true), String(E - 1).length + 1, t.fontSize);
  const prunedSet = new Set(pruned.map(([l, e]) => `${l}:${e}`));
  const hover = r.scores.map((row, l) => row.map((v, e) => `layer ${l} · E${e}<br>${r.criterion} = ${v.toPrecision(4)}${prunedSet.has(`${l}:${e}`) ? '<br><b>pruned</b>' : ''}`));
  const data: Record<string, unknown>[] = [
    {
      type: 'heatmap', z: r.scores, x: Array.from({ length: E }, (_, e) => e), y: Array.from({ length: L }, (_, l) => l), customdata: hover, hovertemplate: '%{customdata}<extra></extra>',
      colorscale: [[0, t.background], [1, t.accent]], xgap: 2, ygap: 2, colorbar: colorbar(t, r.criterion), showlegend: false,
    },
    {
      type: 'scatter', mode: 'markers', name: 'pruned', x: pruned.map((p) => p[1]), y: pruned.map((p) => p[0]), marker: { symbol: 'x-thin-open', size: 14, color: t.disabled, line: { color: t.disabled, width: 2 } },
      hoverinfo: 'skip', showlegend: pruned.length > 0,
    },
  ];
  return {
    data,
    layout: {
      ...baseLayout(t, width < NARROW_PX ? `Importance (${r.criterion})` : `Expert importance (${r.criterion}) per layer × expert · ${r.tokens} corpus tokens`, width),
      margin,
      xaxis: axis(t, '', { dtick: step, tickprefix: 'E', showgrid: false, range: [-0.5, E - 0.5] }),
      yaxis: axis(t, 'layer', { dtick: 1, range: [L - 0.5, -0.5], showgrid: false }),
      legend: { orientation: 'h', x: 0, y: -0.1, yanchor: 'top', font: { color: t.foreground }, bgcolor: 'rgba(0,0,0,0)' },
    },
  };
}

/** LRU hit rate against the cache size C per layer; each layer's SCH at C = schCache as a diamond. */
export function offloadFigure(t: Theme, r: OffloadResult, width = DEFAULT_WIDTH): Figure {
  const E = r.layers[0].lruHitRate.length;
  const C = Array.from({ length: E }, (_, c) => c + 1);
  const narrow = width < NARROW_PX;
  const data: Record<string, unknown>[] = r.layers.flatMap((l, i) => {
    const color = t.experts[i % t.experts.length];
    return [
      {
        type: 'scatter', mode: 'lines+markers', name: narrow ? `L${l.layer}` : `L${l.layer} · SRP ${l.srp.toFixed(2)} · SCH ${l.sch.toFixed(2)}`, legendgroup: `L${l.layer}`, x: C, y: l.lruHitRate,
        line: { color, width: 2 }, marker: { color, size: 5 }, customdata: l.bytesPerToken.map((b) => (b / 1e6).toFixed(3)),
        hovertemplate: `layer ${l.layer} · LRU cache of %{x} experts<br>hit rate %{y:.3f}<br>%{customdata} MB read per token<extra></extra>`,
      },
      {
        type: 'scatter', mode: 'markers', name: `SCH L${l.layer}`, legendgroup: `L${l.layer}`, showlegend: false, x: [r.schCache], y: [l.sch],
        marker: { symbol: 'diamond-open', size: 12, color, line: { color, width: 2 } }, hovertemplate: `layer ${l.layer} · SCH (segments of ${r.segment} tokens, cache of ${r.schCache}) = %{y:.3f}<br>SRP = ${l.srp.toFixed(3)}<extra></extra>`,
      },
    ];
  });
  const margin = { ...chartMargins(width), b: narrow ? 110 : 84 };
  return {
    data,
    layout: {
      ...baseLayout(t, narrow ? 'LRU hit rate vs cache size' : `Expert offloading: LRU hit rate vs cache size C per layer · ${r.tokens} tokens · ◇ SCH (C = ${r.schCache})`, width),
      margin,
      xaxis: axis(t, 'experts cached per layer (C)', { dtick: tickStep(E, plotWidth(width, margin, false), String(E).length, t.fontSize), range: [0.5, E + 0.5] }),
      yaxis: axis(t, narrow ? '' : 'hit rate', { range: [0, 1.02] }), // the sidebar's 40 px margin has room for ticks only
      legend: { orientation: 'h', x: 0, y: narrow ? -0.35 : -0.22, yanchor: 'top', font: { color: t.foreground }, bgcolor: 'rgba(0,0,0,0)' },
    },
  };
}

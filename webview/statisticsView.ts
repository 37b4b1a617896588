// The panel's Statistics view: per-layer routing statistics (common/routingStats.ts) as a layer × expert load heatmap
// and a table of the scalar statistics. Shows the last "Routing Statistics…" result, or else the active document's
// own statistics computed here from its routing result (which carries no full router distribution: no p_i, no LBL).
import type { RoutingResult, StatsResult } from '../common/protocol';
import { RoutingStatsAccumulator } from '../common/routingStats';
import { has, NOT_IN_TRACE } from '../common/routingSource';
import type { Figure } from './charts';
import type { Theme } from './theme';
import { chartMargins, NARROW_PX, plotWidth, tickStep } from './fit';

/** Statistics of one routing result (the active document), with what it cannot know left null. */
export function documentStats(r: RoutingResult, name: string): StatsResult {
  const acc = new RoutingStatsAccumulator(r.model);
  acc.add({ ids: r.ids, experts: r.experts, weights: has(r, 'weights') ? r.weights : null, entropy: has(r, 'entropy') ? r.entropy : null, probSums: null, notRecorded: r.notRecorded });
  const { name: model, layers, experts, topK } = r.model;
  return { model: { name: model, layers, experts, topK }, tokens: acc.tokens, files: [name], steered: r.steered, ...(r.source ? { traced: [name] } : {}), layers: acc.layers() };
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

export function statisticsFigure(t: Theme, s: StatsResult, width = 800): Figure {
  const E = s.model.experts;
  const margin = { ...chartMargins(width, { left: 48, scale: true }), b: 36 };
  const step = tickStep(E, plotWidth(width, margin, true), String(E - 1).length + 1, t.fontSize);
  const z = s.layers.map((l) => l.load.map((v) => v * 100));
  const hover = s.layers.map((l, li) =>
    l.load.map((f, e) => `layer ${li} · E${e}<br>load f = ${pct(f)} of routed slots (top-${s.model.topK})<br>${l.meanProb ? `mean router probability p = ${pct(l.meanProb[e])}` : 'p: needs the router distribution (Routing Statistics…)'}${f === 0 ? '<br><b>dead: no slot</b>' : ''}`),
  );
  const axis = (title: string, extra: Record<string, unknown>) => ({ title: { text: title, font: { color: t.foreground } }, color: t.foreground, tickfont: { color: t.foreground }, gridcolor: t.grid, zeroline: false, fixedrange: true, showgrid: false, ...extra });
  return {
    data: [
      {
        type: 'heatmap', z, x: Array.from({ length: E }, (_, e) => e), y: s.layers.map((_, i) => i), customdata: hover, hovertemplate: '%{customdata}<extra></extra>',
        colorscale: [[0, t.background], [1, t.accent]], zmin: 0, xgap: 2, ygap: 2,
        colorbar: { title: { text: '% slots', font: { color: t.foreground } }, tickfont: { color: t.foreground }, outlinecolor: t.grid, thickness: 12 },
      },
    ],
    layout: {
      title: { text: width < NARROW_PX ? `Load · ${s.tokens} tokens` : `Load per expert and layer · ${s.tokens} tokens · ${s.files.length} text${s.files.length === 1 ? '' : 's'}`, font: { size: t.fontSize + 1, color: t.foreground }, x: 0, xanchor: 'left', xref: 'paper' },
      paper_bgcolor: t.background, plot_bgcolor: t.background, font: { color: t.foreground, family: t.font, size: t.fontSize },
      margin, dragmode: false,
      hoverlabel: { bgcolor: t.background, bordercolor: t.foreground, font: { color: t.foreground, family: t.font, size: t.fontSize } },
      xaxis: axis('', { dtick: step, tickprefix: 'E', range: [-0.5, E - 0.5] }),
      yaxis: axis('layer', { dtick: 1, range: [s.layers.length - 0.5, -0.5] }),
    },
  };
}

/** A number, or a dash with the reason in its tooltip (never a 0 for a value the source lacks). */
function cell(tr: HTMLTableRowElement, v: number | null, digits: number, missing: string): void {
  const td = tr.insertCell();
  td.textContent = v === null ? '—' : v.toFixed(digits);
  if (v === null) td.title = missing;
}

export function renderStatisticsTable(el: HTMLElement, s: StatsResult): void {
  const t = document.createElement('table');
  t.className = 'delta-table stats-table';
  // The caption sits above the scrolling box, so it wraps to the panel's width while a wide table scrolls.
  const caption = document.createElement('p');
  caption.className = 'table-caption';
  caption.textContent = 'Per layer: balance (LBL = E·Σ fᵢ·pᵢ, 1 = even), top-1 repeat of consecutive tokens vs chance (Σ qₑ²), token-id consistency of the top-1 expert (1 = decided by the token id), mean router entropy';
  const head = t.createTHead().insertRow();
  for (const h of ['layer', 'LBL', 'dead', 'top-1 repeat', 'chance', 'repeat ÷ chance', 'token-id consistency', 'entropy (nats)']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = t.createTBody();
  const traced = s.traced?.length ? `${NOT_IN_TRACE} (${s.traced.length} of the texts come from engine traces)` : 'needs the router distribution: run “MoE Lens: Routing Statistics…”';
  s.layers.forEach((l, i) => {
    const tr = body.insertRow();
    tr.insertCell().textContent = String(i);
    cell(tr, l.lbl, 3, traced);
    const dead = tr.insertCell();
    dead.textContent = String(l.deadExperts.length);
    dead.title = l.deadExperts.length ? l.deadExperts.map((e) => `E${e}`).join(' ') : 'every expert took a slot';
    cell(tr, l.top1Repeat, 3, 'no consecutive token pair');
    cell(tr, l.top1RepeatChance, 3, '');
    cell(tr, l.top1Repeat !== null && l.top1RepeatChance > 0 ? l.top1Repeat / l.top1RepeatChance : null, 2, 'no consecutive token pair');
    cell(tr, l.tokenIdConsistency, 3, 'no token id occurs twice');
    cell(tr, l.meanEntropy, 3, traced);
  });
  const box = document.createElement('div');
  box.className = 'table-scroll';
  box.append(t);
  el.replaceChildren(caption, box);
}

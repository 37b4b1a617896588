// The routing panel: Plotly charts of one document's routing, with @vscode-elements controls. All data arrives as
// validated messages from the extension; all actions leave as messages (the extension owns the steering state).
import Plotly, { type PlotlyHTMLElement } from 'plotly.js-dist-min';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { HEATMAP_METRICS } from '../common/heatmapMetrics';
import type { ContrastiveRow, RoutingResult, StatsResult, SteeringRule } from '../common/protocol';
import { sourceCaption } from '../common/routingSource';
import { isPanelState, parseHostMessage, type HostMessage, type PanelMetric, type PanelState, type PanelView, type WebviewMessage } from '../common/webviewMessages';
import { heatmapFigure, loadFigure, transitionFigure, type Figure } from './charts';
import { MIN_CELL_PX } from './fit';
import { boxWidth, onWidthChange } from './resize';
import { renderContrastive } from './contrastiveTable';
import { clampWindow, metricAvailable, tokensInRange, WINDOW, windowAround, windowRange } from './routingViews';
import { documentStats, renderStatisticsTable, statisticsFigure } from './statisticsView';
import { PruneViews } from './pruneView';
import { fillLayerOptions } from './layerSelect';
import { onThemeChange, readTheme, type Theme } from './theme';

declare function acquireVsCodeApi(): { postMessage(m: WebviewMessage): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

const saved = vscode.getState();
const state: PanelState = isPanelState(saved) ? { ...saved } : { view: 'heatmap', metric: 'expert', layer: 0, windowStart: 0 };
let doc: { uri: string; fileName: string; result: RoutingResult; tokenTexts: string[] } | undefined;
let selection: [number, number] | undefined;
let contrastive: { rows: ContrastiveRow[]; caption?: string } | undefined;
let statistics: StatsResult | undefined;
const prune = new PruneViews();
let rules: SteeringRule[] = [];
let clearReason = 'Open a text document to see how the model routes its tokens.';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const chart = $<PlotlyHTMLElement>('chart');
const menu = $('expert-menu');
const slider = $<HTMLInputElement>('window-slider');
const selectValue = (id: string) => $(id) as unknown as { value: string };

const post = (m: WebviewMessage): void => vscode.postMessage(m);

function saveState(): void {
  vscode.setState(state);
  post({ type: 'stateChanged', state: { ...state } });
}

const CONFIG = { displaylogo: false, responsive: true, displayModeBar: false, scrollZoom: false };
const chartWidth = () => boxWidth($('chart-scroll'));

let plotted = false;
async function plot(f: Figure): Promise<void> {
  chart.style.width = f.scrolls ? `${String(f.layout.width)}px` : '';
  await Plotly.react(chart, f.data, f.layout, CONFIG);
  if (!plotted) chart.on('plotly_click', onChartClick);
  plotted = true;
}

function unplot(): void {
  if (plotted) Plotly.purge(chart);
  plotted = false;
}

function show(part: 'chart' | 'contrastive' | 'empty', emptyText = '', table = false): void {
  $('chart-scroll').hidden = part !== 'chart';
  $('prune-actions').hidden = !(part === 'chart' && state.view === 'pruning' && prune.pruning);
  $('statistics').hidden = !table;
  document.body.classList.toggle('with-table', table);
  $('contrastive').hidden = part !== 'contrastive';
  $('empty').hidden = part !== 'empty';
  $('empty').textContent = emptyText;
  if (part !== 'chart') unplot();
}

function renderHeatmap(t: Theme, r: RoutingResult): Promise<void> {
  const { start, n } = windowRange(state.windowStart, r.tokens);
  state.windowStart = start;
  const windowed = r.tokens > WINDOW;
  $('window-row').hidden = !windowed;
  slider.max = String(Math.max(0, r.tokens - WINDOW));
  slider.value = String(start);
  const range = r.tokens ? `tokens ${start}–${start + n - 1} of ${r.tokens}` : 'no tokens';
  const notes = [
    windowed ? 'window: ◀ ▶, the slider or a selection in the editor moves it' : '',
    r.truncated ? 'truncated at moeLens.maxTokens' : '',
    state.metric === 'change' && !r.baselineExperts ? 'nothing is steered: no change to show' : '',
    sourceCaption(r) ? `routing from the ${sourceCaption(r)}${r.notRecorded?.length ? ` (${r.notRecorded.length} tokens not recorded: gaps)` : ''}` : '',
    metricAvailable(r, state.metric) ? '' : `${METRIC_NAMES_SHORT[state.metric]} not in the trace: choose Top-1 expert`,
    'click a cell to go to its token',
  ].filter(Boolean);
  const f = heatmapFigure(t, r, state.metric, start, n, doc?.tokenTexts ?? [], selection, chartWidth());
  if (f.scrolls) notes.unshift(`scroll sideways (${MIN_CELL_PX} px per token)`);
  $('info').textContent = `${doc?.fileName ?? ''} · ${range} · ${notes.join(' · ')}`;
  renderLegend(t, r);
  return plot(f);
}

/** The experts' colours, ids and labels; a click offers steering that expert at every layer. */
function renderLegend(t: Theme, r: RoutingResult): void {
  const legend = $('legend');
  legend.hidden = HEATMAP_METRICS[state.metric].scale !== 'categorical';
  if (legend.hidden) return;
  legend.replaceChildren();
  for (let e = 0; e < r.model.experts; e++) {
    const b = document.createElement('button');
    b.className = 'legend-item';
    b.dataset.expert = String(e);
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = t.experts[e];
    const mode = rules.find((x) => x.expert === e && x.layer === '*')?.mode;
    const labels = [...new Set((r.model.labels ?? []).map((row) => row[e]).filter(Boolean))];
    b.title = `Expert ${e}${labels.length ? `: ${labels.join(' / ')}` : ''}. Click to disable, force or reset it at every layer.`;
    b.append(sw, `E${e}${labels.length === 1 ? ` ${labels[0]}` : ''}${mode ? ` (${mode}d)` : ''}`);
    b.addEventListener('click', () => showExpertMenu('*', e));
    legend.append(b);
  }
}

function renderLoad(t: Theme, r: RoutingResult): Promise<void> {
  $('info').textContent = `${doc?.fileName ?? ''} · ${r.tokens} tokens · LBL = N·Σ fᵢ·pᵢ per layer (1 = even load; pᵢ approximated by the expert's share of the top-k gate weight, as the raw router probabilities are not in the routing result) · click an expert to steer it`;
  return plot(loadFigure(t, r, rules, chartWidth()));
}

const METRIC_NAMES_SHORT: Record<PanelMetric, string> = { expert: 'top-1 expert', entropy: 'router entropy', gate: 'gate weights', change: 'routing change' };

/** The last Routing Statistics… result, or else the active document's own statistics. */
function renderStatistics(t: Theme): Promise<void> | void {
  const s = statistics ?? (doc ? documentStats(doc.result, doc.fileName) : undefined);
  if (!s) return show('empty', 'No statistics yet. Run “MoE Lens: Routing Statistics…” over open documents, workspace files or the model’s profile corpus, or open a document to see its own.');
  show('chart', '', true);
  $('info').textContent = statistics
    ? `${s.model.name} · ${s.tokens} tokens · ${s.files.length} text${s.files.length === 1 ? '' : 's'}${s.steered ? ' · steered' : ''} (Routing Statistics…)`
    : `${doc?.fileName ?? ''} · this document only; p and LBL need “MoE Lens: Routing Statistics…”`;
  renderStatisticsTable($('statistics'), s);
  return plot(statisticsFigure(t, s, chartWidth()));
}

function renderTransitions(t: Theme, r: RoutingResult): Promise<void> {
  const layer = Math.max(0, Math.min(state.layer, r.model.layers - 2));
  $('info').textContent = `${doc?.fileName ?? ''} · row E at layer ${layer}: where its tokens' top-1 expert goes at layer ${layer + 1} (rows sum to 1)`;
  return plot(transitionFigure(t, r, layer, chartWidth()));
}

async function render(): Promise<void> {
  menu.hidden = true;
  const t = readTheme(doc?.result.model.experts);
  $('layer-row').hidden = state.view !== 'transitions' || !doc || doc.result.model.layers < 2;
  $('metric-row').hidden = state.view !== 'heatmap';
  $('legend').hidden = true;
  $('window-row').hidden = true;
  $('rules').textContent = rules.length ? `${rules.length} steering rule${rules.length > 1 ? 's' : ''} active: ${rules.map(ruleText).join(', ')}` : '';
  if (state.view === 'contrastive') {
    $('info').textContent = contrastive?.caption ?? '';
    if (!contrastive?.rows.length) {
      return show('empty', 'No contrastive result yet. Run “MoE Lens: Find Contrastive Experts…” with two sets of texts (A and B): it ranks every expert by ΔP = P(active | A) − P(active | B) (SteerMoE) and measures the effect of disabling the top ones against random experts (MoTE).');
    }
    show('contrastive');
    renderContrastive($('contrastive'), contrastive.rows, (layer, expert) => showExpertMenu(layer, expert));
    return;
  }
  if (state.view === 'statistics') return renderStatistics(t);
  if (state.view === 'pruning' || state.view === 'importance' || state.view === 'offload') return prune.render(state.view, t, { $, show, plot, width: chartWidth });
  if (!doc) {
    $('info').textContent = '';
    return show('empty', clearReason);
  }
  show('chart');
  const r = doc.result;
  await (state.view === 'heatmap' ? renderHeatmap(t, r) : state.view === 'load' ? renderLoad(t, r) : renderTransitions(t, r));
}

const ruleText = (r: SteeringRule) => `${r.mode}${r.mode === 'bias' ? ` ${r.bias}` : ''} E${r.expert}@${r.layer === '*' ? 'all' : `L${r.layer}`}`;

function onChartClick(e: { points: { x: number | string; y: number | string; curveNumber: number }[] }): void {
  const p = e.points[0];
  if (!p || !doc) return;
  if (state.view === 'heatmap') {
    const index = Number(p.x);
    const r = doc.result;
    if (!Number.isInteger(index) || index < 0 || index >= r.tokens) return;
    post({ type: 'revealToken', uri: doc.uri, index, start: r.offsets[2 * index], end: r.offsets[2 * index + 1] });
  } else if (state.view === 'load' && p.curveNumber === 0) {
    showExpertMenu(Number(p.y), Number(p.x));
  }
}

/** Disable / force / reset for one expert: sent to the extension, which owns and validates the steering state. */
function showExpertMenu(layer: number | '*', expert: number): void {
  $('expert-menu-title').textContent = `Expert ${expert} · ${layer === '*' ? 'all layers' : `layer ${layer}`}`;
  menu.dataset.layer = String(layer);
  menu.dataset.expert = String(expert);
  menu.hidden = false;
  $('menu-disable').focus();
}

function onMenu(action: 'disable' | 'force' | 'reset'): void {
  const layer = menu.dataset.layer === '*' ? '*' : Number(menu.dataset.layer);
  const expert = Number(menu.dataset.expert);
  menu.hidden = true;
  if (action === 'reset') post({ type: 'resetExpert', layer, expert });
  else post({ type: 'steer', rule: { layer, expert, mode: action } });
}

function onHost(m: HostMessage): void {
  switch (m.type) {
    case 'routing': {
      const same = doc?.uri === m.uri;
      doc = { uri: m.uri, fileName: m.fileName, result: m.result, tokenTexts: m.tokenTexts };
      if (!same) {
        selection = undefined;
        state.windowStart = 0;
      }
      fillLayers(m.result.model.layers);
      break;
    }
    case 'selection': {
      if (!doc || doc.uri !== m.uri) return;
      selection = tokensInRange(doc.result, m.start, m.end);
      // Follow the editor: move the window when the selection starts outside it.
      if (selection && (selection[0] < state.windowStart || selection[0] >= state.windowStart + WINDOW)) state.windowStart = windowAround(selection[0], doc.result.tokens);
      break;
    }
    case 'contrastive':
      contrastive = { rows: m.rows, caption: m.caption };
      break;
    case 'steering':
      rules = m.rules;
      break;
    case 'statistics':
      statistics = m.result;
      state.view = 'statistics';
      selectValue('view').value = 'statistics';
      break;
    case 'pruning':
    case 'offload':
      prune.receive(m);
      if (!m.quiet) selectValue('view').value = state.view = m.type;
      break;
    case 'clear':
      doc = undefined;
      selection = undefined;
      clearReason = m.reason;
      break;
  }
  void render();
}

function fillLayers(layers: number): void {
  selectValue('layer').value = fillLayerOptions($('layer'), layers, state.layer);
}

function moveWindow(to: number): void {
  if (!doc) return;
  state.windowStart = clampWindow(to, doc.result.tokens);
  saveState();
  void render();
}

function bindControls(): void {
  const bind = (id: string, apply: (v: string) => void) =>
    $(id).addEventListener('change', () => {
      apply(selectValue(id).value);
      saveState();
      void render();
    });
  bind('view', (v) => (state.view = v as PanelView));
  bind('metric', (v) => (state.metric = v as PanelMetric));
  bind('layer', (v) => (state.layer = Number(v) || 0));
  selectValue('view').value = state.view;
  selectValue('metric').value = state.metric;
  $('prev').addEventListener('click', () => moveWindow(state.windowStart - WINDOW / 2));
  $('next').addEventListener('click', () => moveWindow(state.windowStart + WINDOW / 2));
  slider.addEventListener('change', () => moveWindow(Number(slider.value)));
  $('menu-disable').addEventListener('click', () => onMenu('disable'));
  $('menu-force').addEventListener('click', () => onMenu('force'));
  $('menu-reset').addEventListener('click', () => onMenu('reset'));
  $('menu-close').addEventListener('click', () => (menu.hidden = true));
  for (const [id, action] of [['prune-apply', 'applySteering'], ['prune-export', 'export'], ['prune-use', 'useExported']] as const) $(id).addEventListener('click', () => post({ type: 'pruneAction', action }));
  document.addEventListener('keydown', (e) => e.key === 'Escape' && (menu.hidden = true));
}

window.addEventListener('message', (e: MessageEvent) => {
  const m = parseHostMessage(e.data);
  if (!m) {
    const type = typeof e.data === 'object' && e.data !== null ? String((e.data as { type?: unknown }).type).slice(0, 40) : typeof e.data;
    console.warn(`MoE Lens panel: ignored a malformed or unknown message (type ${type})`);
    return;
  }
  try {
    onHost(m);
  } catch (err) {
    console.error('MoE Lens panel: failed to handle a message', err);
  }
});
onThemeChange(() => void render());
onWidthChange(() => void render());
bindControls();
void render();
post({ type: 'ready' });

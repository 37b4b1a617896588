// The heatmap metrics: one entry per metric, read by everything that shows one — the moeLens.heatmap.metric setting
// (package.json's enum; test/unit/heatmapMetrics.test.ts keeps it equal to these keys), the Select Heatmap pick, the
// editor decorations (extension/decorations/heatmapBuckets.ts) and the routing panel's metric list and chart
// (webview/routingViews.ts, webview/charts.ts). Adding a metric is one entry here plus its id in package.json.
import type { ModelInfo, RoutingResult } from './protocol';
import { has, type OptionalArray } from './routingSource';
import { layerIndex, slotIndex, topKChanged } from './routingLayout';

/**
 * How a metric uses the layer (moeLens.heatmap.layer): "layer" reads one layer ("mean" means layer 0), "layerOrMean"
 * one layer or the mean over layers, "allLayers" always the mean over layers, "none" is a value of the token itself.
 */
export type LayerUse = 'layer' | 'layerOrMean' | 'allLayers' | 'none';

/** "categorical": one colour per expert id; "sequential": low to high over `range`; "binary": 0 or 1. */
export type ColourScale = 'categorical' | 'sequential' | 'binary';

export interface HeatmapMetric {
  /** the name in the Select Heatmap pick and the panel's Metric list */
  label: string;
  /** the Select Heatmap pick's description */
  description: string;
  /** package.json's enumDescriptions entry of moeLens.heatmap.metric */
  setting: string;
  /** what the panel's chart title calls it */
  chartTitle: string;
  /** the panel colour bar's title (a unit) */
  unit: string;
  layers: LayerUse;
  scale: ColourScale;
  /** the value range the colours span (sequential and binary scales) */
  range(m: ModelInfo): [number, number];
  /** value of token t at layer l: the metrics that have one appear in the panel's token × layer heatmap */
  cell?(r: RoutingResult, t: number, l: number): number;
  /** value of token t as a whole (layers "none") */
  token?(r: RoutingResult, t: number): number;
  /** the bottom of the range is left undecorated in the editor (routing change: only changed tokens are painted) */
  hideMin?: boolean;
  /** the array it reads that a source may lack (an engine trace has no weights, entropy or surprisal) */
  needs?: OptionalArray;
}

export const HEATMAP_METRICS = {
  expert: {
    label: 'Top-1 expert',
    description: 'colour = the expert the router trusts most, at a layer',
    setting: 'Top-1 expert at the layer (categorical colours)',
    chartTitle: 'top-1 expert',
    unit: '',
    layers: 'layer',
    scale: 'categorical',
    range: (m) => [0, m.experts - 1],
    cell: (r, t, l) => r.experts[slotIndex(r.model, t, l)],
  },
  entropy: {
    label: 'Router entropy',
    description: 'how unsure the router is (at a layer or mean over layers)',
    setting: 'Router entropy (at the layer, or mean)',
    chartTitle: 'router entropy (nats)',
    unit: 'nats',
    layers: 'layerOrMean',
    scale: 'sequential',
    range: (m) => [0, Math.log(m.experts)],
    cell: (r, t, l) => r.entropy[layerIndex(r.model, t, l)],
    needs: 'entropy',
  },
  gate: {
    label: 'Top-1 gate weight',
    description: 'how much weight the first expert gets',
    setting: 'Top-1 gate weight',
    chartTitle: 'top-1 gate weight',
    unit: 'weight',
    layers: 'layer',
    scale: 'sequential',
    // the first of K renormalised weights is at least 1/K (no preference)
    range: (m) => [1 / m.topK, 1],
    cell: (r, t, l) => r.weights[slotIndex(r.model, t, l)],
    needs: 'weights',
  },
  surprisal: {
    label: 'Surprisal',
    description: 'bits: how unexpected each token is to the model',
    setting: 'Surprisal of the token (bits)',
    chartTitle: 'surprisal (bits)',
    unit: 'bits',
    layers: 'none',
    scale: 'sequential',
    range: () => [0, 15],
    token: (r, t) => r.surprisal[t],
    needs: 'surprisal',
  },
  change: {
    label: 'Routing change (steering)',
    description: 'tokens whose experts changed under steering',
    setting: 'Tokens whose experts changed under steering',
    chartTitle: 'routing change under steering',
    unit: '',
    layers: 'allLayers',
    scale: 'binary',
    range: () => [0, 1],
    cell: (r, t, l) => (topKChanged(r, t, l) ? 1 : 0),
    hideMin: true,
  },
} as const satisfies Record<string, HeatmapMetric>;

export type HeatmapMetricId = keyof typeof HEATMAP_METRICS;

/** Every metric id, in the order the pick and the panel list them. */
export const HEATMAP_METRIC_IDS = Object.keys(HEATMAP_METRICS) as HeatmapMetricId[];

/** The setting's extra value beside the metrics. */
export const HEATMAP_OFF = { id: 'off', label: 'Off', description: 'no heatmap', setting: 'No heatmap' } as const;

/** The metrics with a value per (token, layer): the routing panel's token × layer heatmap shows these. */
export type PanelMetricId = { [K in HeatmapMetricId]: (typeof HEATMAP_METRICS)[K] extends { cell: unknown } ? K : never }[HeatmapMetricId];
export const PANEL_METRIC_IDS = HEATMAP_METRIC_IDS.filter((id): id is PanelMetricId => 'cell' in HEATMAP_METRICS[id]);

export const heatmapMetric = (id: HeatmapMetricId): HeatmapMetric => HEATMAP_METRICS[id];

/** Whether the result carries what the metric reads (an engine trace has no weights, entropy or surprisal). */
export const metricAvailable = (m: HeatmapMetric, r: Pick<RoutingResult, 'absent'>): boolean => !m.needs || has(r, m.needs);

/** A layer index, or "mean" (the mean over layers; for metrics that read one layer: layer 0). */
export type HeatmapLayer = number | 'mean';

/** The metric's value of token t under the layer setting (see LayerUse). */
export function tokenValue(m: HeatmapMetric, r: RoutingResult, t: number, layer: HeatmapLayer): number {
  const L = r.model.layers;
  if (m.token) return m.token(r, t);
  const cell = m.cell!;
  if (m.layers === 'allLayers' || (m.layers === 'layerOrMean' && layer === 'mean')) {
    let sum = 0;
    for (let l = 0; l < L; l++) sum += cell(r, t, l);
    return sum / L;
  }
  return cell(r, t, layer === 'mean' ? 0 : Math.min(Math.max(0, layer), L - 1));
}

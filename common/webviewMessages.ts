// Messages between the extension and the routing panel webview, both directions, with hand-written validators:
// the webview is a separate trust domain, so nothing it sends (or receives) is acted on before it is checked.
import { PANEL_METRIC_IDS, type PanelMetricId } from './heatmapMetrics';
import type { ContrastiveRow, LayerStats, RoutingResult, StatsResult, SteeringRule } from './protocol';
import type { ImportanceResult, OffloadResult, PruneResult } from './pruneProtocol';
import { isImportanceResult, isOffloadResult, isPruneResult } from './pruneValidation';

export const PANEL_VIEWS = ['heatmap', 'load', 'transitions', 'contrastive', 'statistics', 'pruning', 'importance', 'offload'] as const;
/** The buttons under the pruning curve: the extension runs them (extension/prune/pruneCommand.ts). */
export const PRUNE_ACTIONS = ['applySteering', 'export', 'useExported'] as const;
export type PruneAction = (typeof PRUNE_ACTIONS)[number];
/** The panel heatmap's metrics: those of common/heatmapMetrics.ts with a value per (token, layer). */
export type PanelMetric = PanelMetricId;
export type PanelView = (typeof PANEL_VIEWS)[number];

export type HostMessage =
  | { type: 'routing'; uri: string; fileName: string; result: RoutingResult; /** document text of each token */ tokenTexts: string[] }
  | { type: 'selection'; uri: string; start: number; end: number }
  | { type: 'contrastive'; rows: ContrastiveRow[]; caption?: string }
  | { type: 'steering'; rules: SteeringRule[] }
  | { type: 'statistics'; result: StatsResult }
  /** "Prune Experts for a Corpus…": the curve, the criterion's importance (same corpus), the exported folder once there is one */
  /** quiet: a replay for a panel shown again (keep its view); otherwise the panel switches to the new result's view */
  | { type: 'pruning'; result: PruneResult; importance?: ImportanceResult; caption: string; exported?: string; quiet?: boolean }
  /** "Expert Offloading…" */
  | { type: 'offload'; result: OffloadResult; caption: string; quiet?: boolean }
  | { type: 'clear'; reason: string };

export interface PanelState {
  view: PanelView;
  metric: PanelMetric;
  layer: number;
  windowStart: number;
}

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'revealToken'; uri: string; index: number; start: number; end: number }
  | { type: 'steer'; rule: SteeringRule }
  /** layer "*" = the expert's rules at every layer (from the heatmap legend) */
  | { type: 'resetExpert'; layer: number | '*'; expert: number }
  | { type: 'stateChanged'; state: PanelState }
  | { type: 'pruneAction'; action: PruneAction };

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isInt = (x: unknown, min = 0): x is number => Number.isInteger(x) && (x as number) >= min;
const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isNumArray = (x: unknown, len?: number): x is number[] => Array.isArray(x) && (len === undefined || x.length === len) && x.every((v) => typeof v === 'number' && Number.isFinite(v));

function isRule(x: unknown): x is SteeringRule {
  if (!isObj(x)) return false;
  const modeOk = x.mode === 'disable' || x.mode === 'force' || (x.mode === 'bias' && typeof x.bias === 'number' && Number.isFinite(x.bias));
  return (x.layer === '*' || isInt(x.layer)) && isInt(x.expert) && modeOk;
}

/** A routing result whose arrays have exactly the lengths its header promises (so rendering cannot index past them). */
export function isRoutingResult(x: unknown): x is RoutingResult {
  if (!isObj(x) || !isObj(x.model)) return false;
  const m = x.model;
  if (!isInt(m.layers, 1) || !isInt(m.experts, 1) || !isInt(m.topK, 1) || !isStr(m.name)) return false;
  const T = x.tokens;
  if (!isInt(T)) return false;
  const [L, K, E] = [m.layers as number, m.topK as number, m.experts as number];
  const labelsOk = m.labels === undefined || (Array.isArray(m.labels) && m.labels.every((row) => Array.isArray(row) && row.every(isStr)));
  const inRange = (a: number[]) => a.every((e) => Number.isInteger(e) && e >= 0 && e < E);
  return (
    labelsOk && K <= E &&
    isNumArray(x.offsets, 2 * T) && isNumArray(x.ids, T) && isNumArray(x.experts, T * L * K) && isNumArray(x.weights, T * L * K) &&
    isNumArray(x.entropy, T * L) && isNumArray(x.surprisal, T) && typeof x.steered === 'boolean' &&
    (x.baselineExperts === undefined || isNumArray(x.baselineExperts, T * L * K)) &&
    (x.notRecorded === undefined || (Array.isArray(x.notRecorded) && x.notRecorded.every((t) => isInt(t) && t < T))) &&
    (x.absent === undefined || (Array.isArray(x.absent) && x.absent.every((a) => a === 'weights' || a === 'entropy' || a === 'surprisal'))) &&
    inRange(x.experts as number[]) && (x.baselineExperts === undefined || inRange(x.baselineExperts as number[]))
  );
}

const isQuiet = (x: unknown) => x === undefined || typeof x === 'boolean';
const isNumOrNull = (x: unknown) => x === null || isNum(x);

function isLayerStats(x: unknown, E: number): x is LayerStats {
  return isObj(x) && isNumArray(x.load, E) && (x.meanProb === null || isNumArray(x.meanProb, E)) && isNumOrNull(x.lbl) && Array.isArray(x.deadExperts) && x.deadExperts.every((e) => isInt(e) && e < E) &&
    isNumOrNull(x.top1Repeat) && isNum(x.top1RepeatChance) && isNumOrNull(x.tokenIdConsistency) && isNumOrNull(x.meanEntropy);
}

/** A moeLens/stats result with one entry per layer, each of the model's expert count. */
export function isStatsResult(x: unknown): x is StatsResult {
  if (!isObj(x) || !isObj(x.model) || !isInt(x.model.layers, 1) || !isInt(x.model.experts, 1) || !isStr(x.model.name)) return false;
  const E = x.model.experts as number;
  return isInt(x.tokens) && Array.isArray(x.files) && x.files.every(isStr) && Array.isArray(x.layers) && x.layers.length === x.model.layers && x.layers.every((l) => isLayerStats(l, E));
}

function isContrastiveRow(r: unknown): r is ContrastiveRow {
  return isObj(r) && isInt(r.layer) && isInt(r.expert) && isNum(r.pA) && isNum(r.pB) && isNum(r.deltaP) && (r.label === undefined || isStr(r.label));
}

/** Also used by the webview for what vscode.getState() returns (it may come from an older version of the panel). */
export function isPanelState(s: unknown): s is PanelState {
  return isObj(s) && PANEL_VIEWS.includes(s.view as PanelView) && PANEL_METRIC_IDS.includes(s.metric as PanelMetric) && isInt(s.layer) && isInt(s.windowStart);
}

/** Host -> webview. Returns undefined (and the caller logs) for anything malformed or unknown. */
export function parseHostMessage(x: unknown): HostMessage | undefined {
  if (!isObj(x)) return undefined;
  switch (x.type) {
    case 'routing':
      return isStr(x.uri) && isStr(x.fileName) && isRoutingResult(x.result) && Array.isArray(x.tokenTexts) && x.tokenTexts.length === x.result.tokens && x.tokenTexts.every(isStr) ? (x as HostMessage) : undefined;
    case 'selection':
      return isStr(x.uri) && isInt(x.start) && isInt(x.end) && x.end >= x.start ? (x as HostMessage) : undefined;
    case 'contrastive':
      return Array.isArray(x.rows) && x.rows.every(isContrastiveRow) && (x.caption === undefined || isStr(x.caption)) ? (x as HostMessage) : undefined;
    case 'steering':
      return Array.isArray(x.rules) && x.rules.every(isRule) ? (x as HostMessage) : undefined;
    case 'statistics':
      return isStatsResult(x.result) ? (x as HostMessage) : undefined;
    case 'pruning': {
      if (!isPruneResult(x.result) || !isStr(x.caption) || !(x.exported === undefined || isStr(x.exported)) || !isQuiet(x.quiet)) return undefined;
      if (x.importance === undefined) return x as HostMessage;
      // The heatmap marks the pruned pairs on the importance grid: both must be of one model.
      const imp = x.importance;
      const fits = isImportanceResult(imp) && x.result.disabled.every(([l, e]) => l < imp.scores.length && e < imp.scores[0].length);
      return fits ? (x as HostMessage) : undefined;
    }
    case 'offload':
      return isOffloadResult(x.result) && isStr(x.caption) && isQuiet(x.quiet) ? (x as HostMessage) : undefined;
    case 'clear':
      return isStr(x.reason) ? (x as HostMessage) : undefined;
    default:
      return undefined;
  }
}

/** Webview -> host. Returns undefined for anything malformed or unknown: the extension logs it and does nothing. */
export function parseWebviewMessage(x: unknown): WebviewMessage | undefined {
  if (!isObj(x)) return undefined;
  switch (x.type) {
    case 'ready':
      return { type: 'ready' };
    case 'revealToken':
      return isStr(x.uri) && isInt(x.index) && isInt(x.start) && isInt(x.end) && x.end >= x.start ? { type: 'revealToken', uri: x.uri, index: x.index, start: x.start, end: x.end } : undefined;
    case 'steer':
      // A fresh object: only the fields of a rule travel on, whatever else the webview attached.
      if (!isRule(x.rule)) return undefined;
      return { type: 'steer', rule: x.rule.mode === 'bias' ? { layer: x.rule.layer, expert: x.rule.expert, mode: 'bias', bias: x.rule.bias } : { layer: x.rule.layer, expert: x.rule.expert, mode: x.rule.mode } };
    case 'resetExpert':
      return (x.layer === '*' || isInt(x.layer)) && isInt(x.expert) ? { type: 'resetExpert', layer: x.layer, expert: x.expert } : undefined;
    case 'pruneAction':
      return PRUNE_ACTIONS.includes(x.action as PruneAction) ? { type: 'pruneAction', action: x.action as PruneAction } : undefined;
    case 'stateChanged': {
      const s = x.state;
      return isPanelState(s) ? { type: 'stateChanged', state: { view: s.view, metric: s.metric, layer: s.layer, windowStart: s.windowStart } } : undefined;
    }
    default:
      return undefined;
  }
}

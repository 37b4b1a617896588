// Routing statistics (moeLens/stats) and engine traces (moeLens/openTrace): their typed messages and wire shapes,
// re-exported by protocol.ts (kept apart so that each file stays small).
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { EngineKind } from './protocol';
import type { LayerStats } from './routingStats';

export type { LayerStats };

export interface StatsParams {
  /** open documents or files (file: uris) to include; an open document whose routing comes from a trace uses it */
  uris?: string[];
  /** include the loaded model's profile corpus (moe.json profileCorpus) */
  profileCorpus?: boolean;
  /** echoed in StatsProgress notifications */
  progressId?: string;
}

export interface StatsResult {
  model: { name: string; layers: number; experts: number; topK: number };
  /** tokens counted (recorded ones: a trace's prefix-cached positions are left out) */
  tokens: number;
  /** the texts counted: uris, file paths or "profile:<domain>" */
  files: string[];
  /** true when the routing was steered (the server's steering rules applied) */
  steered: boolean;
  /** texts whose routing came from an engine trace (they carry no router probabilities or entropy) */
  traced?: string[];
  layers: LayerStats[];
}

export interface StatsProgress {
  id: string;
  done: number;
  total: number;
  /** the text being analysed */
  file: string;
}

/** Where a RoutingResult came from when not from the server's own model run. */
export interface RoutingSource {
  kind: 'trace';
  engine: EngineKind;
  /** the trace file */
  file: string;
}

export interface OpenTraceParams {
  /** the document the trace was recorded on */
  uri: string;
  /** path of the trace file (a vLLM or SGLang response, JSON) */
  path: string;
}

export interface OpenTraceResult {
  engine: EngineKind;
  tokens: number;
  /** tokens whose routing the engine did not record (prefix-cached positions) */
  notRecorded: number;
}

export const StatsRequest = new RequestType<StatsParams, StatsResult, void>('moeLens/stats');
/** progress of a running moeLens/stats (cancellable with $/cancelRequest) */
export const StatsProgressNotification = new NotificationType<StatsProgress>('moeLens/statsProgress');
/** the server serves the document's routing from the trace until closeTrace or an edit; a bad trace: InvalidParams */
export const OpenTraceRequest = new RequestType<OpenTraceParams, OpenTraceResult, void>('moeLens/openTrace');
/** true when a trace was open */
export const CloseTraceRequest = new RequestType<{ uri: string }, boolean, void>('moeLens/closeTrace');

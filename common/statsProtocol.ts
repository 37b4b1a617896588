// Wire types of routing statistics (moeLens/stats) and engine traces (moeLens/openTrace), issue #14. The request
// objects live in protocol.ts with every other method; these shapes are re-exported there.
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
  engine: 'vllm' | 'sglang';
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
  engine: 'vllm' | 'sglang';
  tokens: number;
  /** tokens whose routing the engine did not record (prefix-cached positions) */
  notRecorded: number;
}

// `moe-lens import … --progress json`: the importer's machine-readable progress, one JSON object per line on stdout
// (human messages stay on stderr). The extension's "Import Hugging Face Model…" runs the CLI as a child process and
// reads these lines; a script can too (`… --progress json | jq`). Pure: the CLI writes them, the extension parses.

export type ImportPhase = 'weights' | 'hashing' | 'verifying' | 'done';

export interface ImportProgressEvent {
  event: 'progress';
  phase: ImportPhase;
  bytesDone: number;
  bytesTotal: number;
  tensorsDone: number;
  tensorsTotal: number;
}

/** What an import produced: importCheckpoint's result (server/import) and the CLI's final JSON progress line. */
export interface ImportSummary {
  outDir: string;
  architecture: string;
  /** decoder layers */
  layers: number;
  /** layers with a router (moe.json's layers; Qwen's mlp_only_layers have none) */
  routerLayers: number;
  experts: number;
  topK: number;
  bytesRead: number;
  tensorsRead: number;
  /** checkpoint tensors the graph did not use (e.g. lm_head.weight of a tied model): worth a look when unexpected */
  unused: string[];
  /** how many tensors were unused, when `unused` lists only the first of them (it stays a short line) */
  unusedTotal?: number;
}

export interface ImportDoneEvent extends ImportSummary {
  event: 'done';
  name: string;
}

/** The checkpoint cannot be imported (exit 2; `file` and `field` say where), or the importer failed (exit 1). */
export interface ImportErrorEvent {
  event: 'error';
  message: string;
  file?: string;
  field?: string;
  unexpected?: boolean;
}

export interface ImportCancelledEvent {
  event: 'cancelled';
}

export type ImportEvent = ImportProgressEvent | ImportDoneEvent | ImportErrorEvent | ImportCancelledEvent;

const PHASES: readonly string[] = ['weights', 'hashing', 'verifying', 'done'];
const isCount = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isStr = (v: unknown) => typeof v === 'string';

/** One line of a CLI's `--progress json` stdout as a JSON object, or undefined for anything else (blank, log, array). */
export function jsonObjectLine(line: string): Record<string, unknown> | undefined {
  const s = line.trim();
  if (!s.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** One line of the importer's stdout → an event, or undefined for anything else (a blank line, a stray log). */
export function parseImportEvent(line: string): ImportEvent | undefined {
  const o = jsonObjectLine(line);
  if (!o) return undefined;
  switch (o.event) {
    case 'progress':
      return PHASES.includes(o.phase as string) && ['bytesDone', 'bytesTotal', 'tensorsDone', 'tensorsTotal'].every((k) => isCount(o[k]))
        ? (o as unknown as ImportProgressEvent)
        : undefined;
    case 'done':
      return ['outDir', 'name', 'architecture'].every((k) => isStr(o[k])) && ['layers', 'routerLayers', 'experts', 'topK', 'bytesRead', 'tensorsRead'].every((k) => isCount(o[k])) && Array.isArray(o.unused)
        ? (o as unknown as ImportDoneEvent)
        : undefined;
    case 'error':
      return isStr(o.message) && (o.file === undefined || isStr(o.file)) && (o.field === undefined || isStr(o.field)) ? (o as unknown as ImportErrorEvent) : undefined;
    case 'cancelled':
      return { event: 'cancelled' };
    default:
      return undefined;
  }
}

/**
 * Splits a stream's chunks into lines: a chunk may end inside a line (or inside a UTF-8 sequence, which the caller's
 * setEncoding('utf8') already handles), so the tail waits for the next chunk.
 */
export class LineSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop()!;
    return parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  }

  /** The last line when the stream ended without a newline. */
  end(): string[] {
    const last = this.rest;
    this.rest = '';
    return last ? [last] : [];
  }
}

/**
 * How far along the import is, 0..1, for a progress bar. Reading and converting the weights is nearly all of the work;
 * hashing re-reads the files (fast, sequential) and verifying loads the result once.
 */
export function importFraction(p: ImportProgressEvent): number {
  switch (p.phase) {
    case 'weights':
      return 0.9 * (p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : p.tensorsTotal > 0 ? Math.min(1, p.tensorsDone / p.tensorsTotal) : 0);
    case 'hashing':
      return 0.9;
    case 'verifying':
      return 0.95;
    case 'done':
      return 1;
  }
}

const size = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`);

/** "412.0 MB / 1.20 GB · 120 / 371 tensors", or what the importer does after the weights. */
export function describeImportProgress(p: ImportProgressEvent): string {
  switch (p.phase) {
    case 'weights':
      return `${size(p.bytesDone)} / ${size(p.bytesTotal)} · ${p.tensorsDone} / ${p.tensorsTotal} tensors`;
    case 'hashing':
      return `hashing the checkpoint (${size(p.bytesTotal)}) for moe.json's provenance`;
    case 'verifying':
      return 'loading the result in onnxruntime and running one token';
    case 'done':
      return 'done';
  }
}

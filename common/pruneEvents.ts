// `moe-lens importance | prune | offload … --progress json`: one JSON object per line on stdout (human messages stay
// on stderr), as import's common/importEvents.ts: progress lines, then the result, an error or nothing (killed). The
// extension's "Prune Experts for a Corpus…" and "Expert Offloading…" run the CLI as a child process and read these
// lines. Pure: the CLI writes them, the extension parses.
import type { ImportanceResult, OffloadResult, PruneResult } from './pruneProtocol';
import { isImportanceResult, isOffloadResult, isPruneResult } from './pruneValidation';
import { jsonObjectLine } from './importEvents';

/** profiling: the corpus through the profiling graph; measuring: held-out bits per token, one pruning at a time */
export type PrunePhase = 'profiling' | 'measuring' | 'exporting';

export interface PruneProgressEvent {
  event: 'progress';
  phase: PrunePhase;
  /** steps done and in all, over the whole command (profiling's texts, then the curve's measurements) */
  done: number;
  total: number;
  message: string;
}

export type PruneDoneEvent =
  | { event: 'done'; command: 'prune'; result: PruneResult }
  | { event: 'done'; command: 'importance'; result: ImportanceResult }
  | { event: 'done'; command: 'offload'; result: OffloadResult };

/** Bad input (exit 2) or an unexpected failure (exit 1, `unexpected`). */
export interface PruneErrorEvent {
  event: 'error';
  message: string;
  unexpected?: boolean;
}

export type PruneEvent = PruneProgressEvent | PruneDoneEvent | PruneErrorEvent;

const PHASES: readonly string[] = ['profiling', 'measuring', 'exporting'];
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** One line of stdout → an event, or undefined for anything else (a blank line, a stray log, a malformed result). */
export function parsePruneEvent(line: string): PruneEvent | undefined {
  const o = jsonObjectLine(line);
  if (!o) return undefined;
  switch (o.event) {
    case 'progress':
      return PHASES.includes(o.phase as string) && isCount(o.done) && isCount(o.total) && o.done <= o.total && typeof o.message === 'string'
        ? { event: 'progress', phase: o.phase as PrunePhase, done: o.done, total: o.total, message: o.message }
        : undefined;
    case 'done': {
      const ok = o.command === 'prune' ? isPruneResult(o.result) : o.command === 'importance' ? isImportanceResult(o.result) : o.command === 'offload' ? isOffloadResult(o.result) : false;
      return ok ? (o as unknown as PruneDoneEvent) : undefined;
    }
    case 'error':
      return typeof o.message === 'string' ? { event: 'error', message: o.message, ...(o.unexpected === true ? { unexpected: true } : {}) } : undefined;
    default:
      return undefined;
  }
}

const part = (p: PruneProgressEvent) => (p.total > 0 ? Math.min(1, p.done / p.total) : 0);

/**
 * How far along a command is, 0..1, for a progress bar. importance and offload only profile; prune's profiling pass
 * is about as long as one held-out measurement, and its curve is many of them; an export copies the kept weights once.
 */
export function pruneFraction(command: 'importance' | 'prune' | 'offload', p: PruneProgressEvent): number {
  if (command !== 'prune') return part(p);
  switch (p.phase) {
    case 'profiling':
      return 0.15 * part(p);
    case 'measuring':
      return 0.15 + 0.8 * part(p); // up to 0.95
    case 'exporting':
      return 0.97;
  }
}

/**
 * Steps of `prune`'s curve: the unpruned baseline, then for each pruned count the criterion, frequency (unless it is
 * the criterion), the random draws and, with merging, the merged model. pruneCurve reports against this total.
 */
export function curveSteps(prunedCounts: number, draws: number, frequencyIsCriterion: boolean, merge: boolean): number {
  return 1 + prunedCounts * (1 + (frequencyIsCriterion ? 0 : 1) + draws + (merge ? 1 : 0));
}

// The command lines the editor runs for "Prune Experts for a Corpus…" and "Expert Offloading…" (docs/PRUNING.md).
// Pure (no vscode import): unit-tested, and the Chromium test runs exactly these lines on the embedded model.
import type { ImportanceCriterion } from '../../common/pruneProtocol';

export interface PruneRequest {
  /** the model directory; undefined = the embedded model */
  model?: string;
  corpus: readonly string[];
  eval: readonly string[];
  /** deltaP's second set */
  contrast?: readonly string[];
  criterion: ImportanceCriterion;
  tolerance: number;
  /** experts kept per layer, or the threshold's count */
  keep: number | 'auto';
  merge: boolean;
  draws: number;
}

const model = (dir: string | undefined) => (dir ? ['--model', dir] : []);
const each = (flag: string, files: readonly string[] | undefined) => (files ?? []).flatMap((f) => [flag, f]);

/** `prune … --progress json`, and with `out` the export (the same pruning: pass the first run's keep). */
export function pruneArgs(r: PruneRequest, out?: string): string[] {
  return [
    'prune', ...model(r.model), ...each('--corpus', r.corpus), ...each('--eval', r.eval), ...each('--contrast', r.criterion === 'deltaP' ? r.contrast : undefined),
    '--criterion', r.criterion, '--tolerance', String(r.tolerance), '--keep', String(r.keep), '--draws', String(r.draws), ...(r.merge ? ['--merge'] : []),
    ...(out ? ['--out', out] : []), '--progress', 'json',
  ];
}

/** `importance …`: the per layer × expert scores the panel's heatmap shows next to the curve. */
export function importanceArgs(r: Pick<PruneRequest, 'model' | 'corpus' | 'contrast' | 'criterion'>): string[] {
  return ['importance', ...model(r.model), ...each('--corpus', r.corpus), ...each('--contrast', r.criterion === 'deltaP' ? r.contrast : undefined), '--criterion', r.criterion, '--progress', 'json'];
}

export function offloadArgs(r: { model?: string; corpus: readonly string[]; segment?: number }): string[] {
  return ['offload', ...model(r.model), ...each('--corpus', r.corpus), ...(r.segment ? ['--segment', String(r.segment)] : []), '--progress', 'json'];
}

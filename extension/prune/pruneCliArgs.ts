// The command lines the editor runs for "Prune Experts for a Corpus…" and "Expert Offloading…" (docs/PRUNING.md), and
// what goes to the child's stdin: the texts of open documents that are not saved files (untitled, or edited and not
// saved), which the CLI reads as --corpus-text / --eval-text / --contrast-text NAME and which never touch the disk.
// Pure (no vscode import): unit-tested, and the Chromium test runs exactly these lines on the embedded model.
import { INLINE_TEXTS_FORMAT, type ImportanceCriterion, type InlineText, type InlineTexts, type TextSource } from '../../common/pruneProtocol';

export interface PruneRequest {
  /** the model directory; undefined = the embedded model */
  model?: string;
  corpus: readonly TextSource[];
  eval: readonly TextSource[];
  /** deltaP's second set */
  contrast?: readonly TextSource[];
  criterion: ImportanceCriterion;
  tolerance: number;
  /** experts kept per layer, or the threshold's count */
  keep: number | 'auto';
  merge: boolean;
  draws: number;
}

/** A command line and, when it names inline texts, the JSON for the child's stdin. */
export interface CliCall {
  args: string[];
  stdin?: string;
}

const model = (dir: string | undefined) => (dir ? ['--model', dir] : []);
const each = (flag: string, sources: readonly TextSource[] | undefined) => (sources ?? []).flatMap((s) => (typeof s === 'string' ? [flag, s] : [`${flag}-text`, s.name]));

/** The inline texts of the sets, once each (by name), as the stdin document; undefined when every entry is a path. */
function stdinOf(...sets: (readonly TextSource[] | undefined)[]): string | undefined {
  const texts = new Map<string, InlineText>();
  for (const s of sets.flatMap((x) => x ?? [])) if (typeof s !== 'string') texts.set(s.name, { name: s.name, text: s.text });
  const doc: InlineTexts = { format: INLINE_TEXTS_FORMAT, texts: [...texts.values()] };
  return texts.size ? JSON.stringify(doc) : undefined;
}

const call = (args: string[], ...sets: (readonly TextSource[] | undefined)[]): CliCall => {
  const stdin = stdinOf(...sets);
  return stdin === undefined ? { args } : { args, stdin };
};

/** `prune … --progress json`, and with `out` the export (the same pruning: pass the first run's keep). */
export function pruneArgs(r: PruneRequest, out?: string): CliCall {
  const contrast = r.criterion === 'deltaP' ? r.contrast : undefined;
  return call(
    [
      'prune', ...model(r.model), ...each('--corpus', r.corpus), ...each('--eval', r.eval), ...each('--contrast', contrast),
      '--criterion', r.criterion, '--tolerance', String(r.tolerance), '--keep', String(r.keep), '--draws', String(r.draws), ...(r.merge ? ['--merge'] : []),
      ...(out ? ['--out', out] : []), '--progress', 'json',
    ],
    r.corpus, r.eval, contrast,
  );
}

/** `importance …`: the per layer × expert scores the panel's heatmap shows next to the curve. */
export function importanceArgs(r: Pick<PruneRequest, 'model' | 'corpus' | 'contrast' | 'criterion'>): CliCall {
  const contrast = r.criterion === 'deltaP' ? r.contrast : undefined;
  return call(['importance', ...model(r.model), ...each('--corpus', r.corpus), ...each('--contrast', contrast), '--criterion', r.criterion, '--progress', 'json'], r.corpus, contrast);
}

export function offloadArgs(r: { model?: string; corpus: readonly TextSource[]; segment?: number }): CliCall {
  return call(['offload', ...model(r.model), ...each('--corpus', r.corpus), ...(r.segment ? ['--segment', String(r.segment)] : []), '--progress', 'json'], r.corpus);
}

/** What the editor knows of an open document (vscode.TextDocument's fields, so that this stays pure). */
export interface OpenDocument {
  uri: string;
  scheme: string;
  fileName: string;
  isUntitled: boolean;
  isDirty: boolean;
  getText(): string;
}

/** A saved file is read from disk by its path; anything else (untitled, edited and not saved) goes as inline text. */
export function documentSource(d: OpenDocument): TextSource {
  return d.scheme === 'file' && !d.isUntitled && !d.isDirty ? d.fileName : { name: d.uri, text: d.getText() };
}

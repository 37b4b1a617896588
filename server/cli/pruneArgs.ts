// Command lines of `moe-lens importance | prune | eval | offload` (docs/PRUNING.md). Parsing only: every problem is a
// PruneUsageError (exit 2, nothing run, nothing written).
import { IMPORTANCE_CRITERIA, type ImportanceCriterion } from '../../common/pruneProtocol';
import { DEFAULT_SETTINGS } from '../../common/defaults';

export const PRUNE_USAGE = `usage: moe-lens importance --corpus GLOB… [--criterion reap|frequency|weight|deltaP] [--contrast GLOB…] [--model DIR] [--json]
       moe-lens prune --corpus GLOB… --eval GLOB… (--keep N|auto | --keep-fraction F) [--criterion C] [--out OUT]
                      [--tolerance 0.02] [--draws 5] [--seed 0] [--merge] [--contrast GLOB…] [--model DIR] [--json]
       moe-lens eval [--model DIR] FILE… [--json]
       moe-lens offload --corpus GLOB… [--segment 16] [--sch-cache C] [--model DIR] [--json]
       importance, prune and offload take --progress json: JSON lines on stdout (progress, then done with the
       result, or error) for programs, as import's; and --corpus-text NAME, --eval-text NAME, --contrast-text NAME:
       a text read from stdin ({"format":"moe-lens-texts/1","texts":[{"name","text"}…]}, an editor's unsaved
       document), with or instead of files

  importance  per layer × expert importance on the corpus (reap: mean gate weight × ‖expert output‖ over the tokens
              routed to the expert; deltaP: share of tokens on the corpus minus on --contrast)
  prune       the quality curve (held-out bits per token on --eval for kept fractions 100 … 25%: the criterion,
              frequency, random draws, --merge: MC-SMoE merging), the threshold (smallest kept fraction within
              --tolerance of the unpruned bits per token), and with --out a model directory without the pruned experts;
              --keep auto keeps the threshold's count
  eval        bits per token of the files (the routing analysis's tokenisation and windows)
  offload     per layer SRP, SCH (segments of --segment tokens, a cache of --sch-cache experts, default 2·topK) and
              the LRU hit rate for a cache of C = 1 … E experts, with the bytes moved per token`;

export class PruneUsageError extends Error {}

export interface PruneArgs {
  command: 'importance' | 'prune' | 'eval' | 'offload';
  model?: string;
  corpus: string[];
  eval: string[];
  contrast: string[];
  /** --corpus-text / --eval-text / --contrast-text: names of texts given on stdin (common/pruneProtocol.ts InlineTexts) */
  corpusText: string[];
  evalText: string[];
  contrastText: string[];
  files: string[];
  criterion: ImportanceCriterion;
  keep?: number;
  /** --keep auto: the threshold's count, known once the curve is measured */
  keepAuto: boolean;
  keepFraction?: number;
  out?: string;
  hf: boolean;
  tolerance: number;
  draws: number;
  seed: number;
  merge: boolean;
  segment: number;
  schCache?: number;
  json: boolean;
  /** --progress json: JSON lines on stdout (common/pruneEvents.ts) */
  progressJson: boolean;
  maxTokens: number;
}

export const PRUNE_COMMANDS = ['importance', 'prune', 'eval', 'offload'] as const;

export function parsePruneArgs(argv: readonly string[]): PruneArgs {
  const command = argv[0] as PruneArgs['command'];
  const a: PruneArgs = { command, corpus: [], eval: [], contrast: [], corpusText: [], evalText: [], contrastText: [], files: [], criterion: 'reap', keepAuto: false, progressJson: false, hf: false, tolerance: 0.02, draws: 5, seed: 0, merge: false, segment: 16, json: false, maxTokens: DEFAULT_SETTINGS.maxTokens };
  let list: string[] = a.files;
  const number = (flag: string, v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new PruneUsageError(`${flag} needs a number, not "${v}"`);
    return n;
  };
  for (let i = 1; i < argv.length; i++) {
    const v = argv[i];
    const next = (): string => {
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) throw new PruneUsageError(`${v} needs a value`);
      return argv[++i];
    };
    if (v === '--corpus') (list = a.corpus).push(next());
    else if (v === '--eval') (list = a.eval).push(next());
    else if (v === '--contrast') (list = a.contrast).push(next());
    else if (v === '--corpus-text' || v === '--eval-text' || v === '--contrast-text') {
      ({ '--corpus-text': a.corpusText, '--eval-text': a.evalText, '--contrast-text': a.contrastText })[v].push(next());
      list = a.files; // a name is one argument: what follows is no more of it
    }
    else if (v === '--model') a.model = next();
    else if (v === '--criterion') a.criterion = next() as ImportanceCriterion;
    else if (v === '--keep') {
      const n = next();
      if (n === 'auto') a.keepAuto = true;
      else a.keep = number(v, n);
    } else if (v === '--progress') {
      const m = next();
      if (m !== 'text' && m !== 'json') throw new PruneUsageError(`--progress must be text or json, not "${m}"`);
      a.progressJson = m === 'json';
    }
    else if (v === '--keep-fraction') a.keepFraction = number(v, next());
    else if (v === '--out') a.out = next();
    else if (v === '--hf') a.hf = true;
    else if (v === '--tolerance') a.tolerance = number(v, next());
    else if (v === '--draws') a.draws = number(v, next());
    else if (v === '--seed') a.seed = number(v, next());
    else if (v === '--merge') a.merge = true;
    else if (v === '--segment') a.segment = number(v, next());
    else if (v === '--sch-cache') a.schCache = number(v, next());
    else if (v === '--max-tokens') a.maxTokens = number(v, next());
    else if (v === '--json') a.json = true;
    else if (v.startsWith('--')) throw new PruneUsageError(`unknown option ${v}`);
    else list.push(v); // more files for the last list flag (a shell-expanded glob), or eval's FILE…
  }
  if (!IMPORTANCE_CRITERIA.includes(a.criterion)) throw new PruneUsageError(`--criterion must be one of ${IMPORTANCE_CRITERIA.join(', ')}`);
  if (command !== 'eval' && !a.corpus.length && !a.corpusText.length) throw new PruneUsageError(`${command} needs --corpus GLOB (or --corpus-text NAME)`);
  if (command === 'eval' && a.corpusText.length + a.evalText.length + a.contrastText.length) throw new PruneUsageError('eval reads FILE… only (no --…-text)');
  if (command === 'eval' && !a.files.length) throw new PruneUsageError('eval needs FILE…');
  if (command !== 'eval' && a.files.length) throw new PruneUsageError(`unexpected argument ${a.files[0]}`);
  if (a.criterion === 'deltaP' && !a.contrast.length && !a.contrastText.length && command !== 'eval' && command !== 'offload') throw new PruneUsageError('--criterion deltaP needs --contrast GLOB or --contrast-text NAME (the second set)');
  if (command === 'prune') {
    if (!a.eval.length && !a.evalText.length) throw new PruneUsageError('prune needs --eval GLOB or --eval-text NAME (held-out text, not the corpus)');
    if ([a.keep !== undefined, a.keepAuto, a.keepFraction !== undefined].filter(Boolean).length !== 1) throw new PruneUsageError('prune needs exactly one of --keep N, --keep auto and --keep-fraction F');
    if (a.keepFraction !== undefined && !(a.keepFraction > 0 && a.keepFraction <= 1)) throw new PruneUsageError('--keep-fraction must be in (0, 1]');
    if (a.keep !== undefined && !Number.isInteger(a.keep)) throw new PruneUsageError('--keep must be an integer');
    if (a.hf && !a.out) throw new PruneUsageError('--hf needs --out OUT');
    if (!(a.tolerance >= 0)) throw new PruneUsageError('--tolerance must be ≥ 0');
    if (!(Number.isInteger(a.draws) && a.draws >= 1 && a.draws <= 100)) throw new PruneUsageError('--draws must be an integer from 1 to 100');
  }
  if (a.progressJson && command === 'eval') throw new PruneUsageError('--progress json is for importance, prune and offload');
  if (!(Number.isInteger(a.segment) && a.segment >= 1)) throw new PruneUsageError('--segment must be a positive integer');
  if (!(Number.isInteger(a.maxTokens) && a.maxTokens >= 1)) throw new PruneUsageError('--max-tokens must be a positive integer');
  return a;
}

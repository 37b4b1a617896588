// Runs `moe-lens importance | prune | eval | offload` (docs/PRUNING.md; arguments in pruneArgs.ts). Every input
// problem is found before any work starts and exits 2 with a sentence naming the file or flag; nothing is written
// unless the whole export succeeds (exportModel.ts writes a temporary sibling and renames it; SIGTERM or SIGINT
// removes that sibling before exiting). With --progress json, stdout carries JSON lines (common/pruneEvents.ts).
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { importanceScores, keepCount, keptByScore, prunedPairs } from '../../common/expertImportance';
import { offloadLayers } from '../../common/offloadSim';
import type { PruneEvent, PrunePhase } from '../../common/pruneEvents';
import type { EvalResult, ImportanceResult, OffloadResult, PruneResult } from '../../common/pruneProtocol';
import { SOURCE_CONFIG } from '../import/importCheckpoint';
import { ModelLoadError } from '../model/errors';
import { embeddedModelDir } from '../model/embeddedModel';
import { ModelSession } from '../model/modelSession';
import { profileCorpus } from '../prune/corpusProfile';
import { bitsPerToken } from '../prune/evalBits';
import { exportHf } from '../prune/exportHf';
import { exportReduced, planFromKept } from '../prune/exportModel';
import { expertBytes, PruneError, readMoeGraph } from '../prune/moeGraph';
import { pruneCurve } from '../prune/pruneCurve';
import { expandGlobs } from '../stats/expandGlobs';
import { parsePruneArgs, PRUNE_USAGE, PruneUsageError, type PruneArgs } from './pruneArgs';
import { readStdinTexts } from './stdinTexts';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/**
 * The files of GLOB arguments, read, then the inline texts NAMES names (from stdin); a pattern that matches nothing,
 * a missing or binary file, a name stdin does not hold: PruneUsageError. `labels` name each text (path or name).
 */
export function readTexts(patterns: readonly string[], flag: string, names: readonly string[] = [], inline?: ReadonlyMap<string, string>): { labels: string[]; texts: string[] } {
  const labels = expandGlobs(patterns);
  const texts: string[] = [];
  for (const f of labels) {
    const st = statSync(f, { throwIfNoEntry: false });
    if (!st?.isFile()) throw new PruneUsageError(/[*?]/.test(f) ? `${flag} ${f}: the glob matches no file` : `${flag}: no such file: ${f}`);
    const text = readFileSync(f, 'utf8');
    if (text.includes('\u0000')) throw new PruneUsageError(`${flag}: ${f} is not a text file (it holds NUL bytes)`);
    texts.push(text);
  }
  for (const name of names) {
    const text = inline?.get(name);
    if (text === undefined) throw new PruneUsageError(`${flag}-text ${name}: stdin holds no text of that name`);
    if (text.includes('\u0000')) throw new PruneUsageError(`${flag}-text ${name}: not text (it holds NUL bytes)`);
    labels.push(name);
    texts.push(text);
  }
  if (!texts.some((t) => t.trim().length)) throw new PruneUsageError(`${flag}: the texts are empty (${labels.join(', ')})`);
  return { labels, texts };
}

const table = (rows: string[][]): string => {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return `${rows.map((r) => r.map((v, c) => v.padStart(w[c])).join('  ')).join('\n')}\n`;
};

export async function runPruneCommand(argv: readonly string[], io: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(`${PRUNE_USAGE}\n`);
    return 0;
  }
  let a: PruneArgs;
  try {
    a = parsePruneArgs(argv);
  } catch (e) {
    if (!(e instanceof PruneUsageError)) throw e;
    io.err(`moe-lens: ${e.message}\n${PRUNE_USAGE}\n`); // a malformed command line: the usage helps
    return 2;
  }
  const emit = (e: PruneEvent) => a.progressJson && io.out(`${JSON.stringify(e)}\n`);
  // A kill (the editor's Cancel sends SIGTERM) must not leave a half-written export: remove it, then exit.
  const onSignal = (signal: NodeJS.Signals) => {
    if (partialExport) rmSync(partialExport, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    return await run(a, io, emit);
  } catch (e) {
    if (e instanceof PruneUsageError || e instanceof PruneError || e instanceof ModelLoadError) {
      io.err(`moe-lens: ${e.message}\n`);
      emit({ event: 'error', message: e.message });
      return 2;
    }
    emit({ event: 'error', message: e instanceof Error ? e.message : String(e), unexpected: true });
    throw e;
  } finally {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
  }
}

/** The export folder being written (OUT.partial-PID), for the signal handler. */
let partialExport: string | undefined;

async function run(a: PruneArgs, io: Io, emit: (e: PruneEvent) => void): Promise<number> {
  const modelDir = a.model ?? embeddedModelDir();
  const progress = (m: string) => {
    if (!a.json) io.err(`${m}\n`);
  };
  const step = (phase: PrunePhase, done: number, total: number, message: string) => emit({ event: 'progress', phase, done, total, message });
  if (a.command === 'eval') {
    const { texts } = readTexts(a.files, 'eval');
    const session = await ModelSession.load(modelDir, 'cpu');
    try {
      const r: EvalResult = await bitsPerToken(session, texts, [], { maxTokens: a.maxTokens });
      io.out(a.json ? `${JSON.stringify(r)}\n` : `${r.bitsPerToken.toFixed(4)} bits per token over ${r.tokens} tokens\n`);
      return 0;
    } finally {
      await session.dispose();
    }
  }
  // an editor's unsaved documents come on stdin, never through a file
  const inline = a.corpusText.length + a.evalText.length + a.contrastText.length ? await readStdinTexts() : undefined;
  const corpus = readTexts(a.corpus, '--corpus', a.corpusText, inline);
  const contrast = a.contrast.length + a.contrastText.length ? readTexts(a.contrast, '--contrast', a.contrastText, inline) : undefined;
  const held = a.command === 'prune' ? readTexts(a.eval, '--eval', a.evalText, inline) : undefined;
  const warnings: string[] = [];
  if (held) {
    const same = held.labels.map((f) => resolve(f)).sort().join('\n') === corpus.labels.map((f) => resolve(f)).sort().join('\n') || held.texts.join('\u0000') === corpus.texts.join('\u0000');
    if (same) warnings.push('the --eval text is the corpus: the curve measures fit to the corpus, not held-out quality');
  }
  if (a.out && existsSync(a.out)) throw new PruneUsageError(`--out ${a.out} already exists: choose a new folder (nothing was written)`);
  for (const w of warnings) io.err(`moe-lens: warning: ${w}\n`);
  const g = readMoeGraph(modelDir);
  const { layers: L, experts: E, topK: K } = g.manifest;
  if (a.hf && !existsSync(join(modelDir, SOURCE_CONFIG))) throw new PruneUsageError(`--hf: ${modelDir} has no ${SOURCE_CONFIG} (the source config.json): re-import it with this version of moe-lens import; the embedded model has no Hugging Face architecture`);
  let keep: number | undefined;
  if (a.command === 'prune') {
    keep = a.keepAuto ? undefined : a.keep ?? keepCount(a.keepFraction!, E, K);
    if (keep !== undefined && !(keep >= 1 && keep <= E)) throw new PruneUsageError(`--keep must be from 1 to ${E} (the model has ${E} experts per layer), not ${keep}`);
    if (keep !== undefined && keep < K) throw new PruneUsageError(`--keep ${keep} is below topK = ${K}: every layer must keep at least the ${K} experts a token selects`);
  }
  progress(`profiling ${corpus.labels.length} text(s)…`);
  // REAP's expert-output norms cost an expert evaluation per layer more: only when the criterion is reap
  const norms = a.command !== 'offload' && a.criterion === 'reap';
  const profile = await profileCorpus(g, corpus.texts, { maxTokens: a.maxTokens, norms, keepSequences: a.command === 'offload', onProgress: (done, total) => step('profiling', done, total, `profiling ${done} of ${total} text(s)`) });
  const contrastProfile = contrast ? await profileCorpus(g, contrast.texts, { maxTokens: a.maxTokens, norms: false }) : undefined;
  if (a.command === 'importance') {
    const r: ImportanceResult = { criterion: a.criterion, tokens: profile.counts.tokens, scores: importanceScores(profile.counts, a.criterion, contrastProfile?.counts) };
    if (a.progressJson) emit({ event: 'done', command: 'importance', result: r });
    else io.out(a.json ? `${JSON.stringify(r)}\n` : table([['layer', ...[...Array(E).keys()].map((e) => `E${e}`)], ...r.scores.map((row, l) => [String(l), ...row.map((x) => x.toPrecision(3))])]));
    return 0;
  }
  if (a.command === 'offload') {
    const schCache = a.schCache ?? Math.min(E, 2 * K);
    const bytes = expertBytes(g);
    const r: OffloadResult = { segment: a.segment, schCache, expertBytes: bytes, tokens: profile.counts.tokens, layers: offloadLayers(profile.sequences!, { layers: L, experts: E, topK: K }, a.segment, schCache, bytes) };
    const rows = [['layer', 'SRP', `SCH(${schCache})`, ...[...Array(E).keys()].map((c) => `C=${c + 1}`)], ...r.layers.map((x) => [String(x.layer), x.srp.toFixed(3), x.sch.toFixed(3), ...x.lruHitRate.map((h) => h.toFixed(2))])];
    if (a.progressJson) emit({ event: 'done', command: 'offload', result: r });
    else io.out(a.json ? `${JSON.stringify(r)}\n` : `${table(rows)}expert size ${bytes} bytes; segment ${a.segment} tokens\n`);
    return 0;
  }
  const curve = await pruneCurve(g, profile, held!.texts, { criterion: a.criterion, draws: a.draws, seed: a.seed, tolerance: a.tolerance, merge: a.merge, maxTokens: a.maxTokens, contrast: contrastProfile, onProgress: progress, onStep: (done, total, m) => step('measuring', done, total, m) });
  keep ??= curve.points.find((p) => p.keptFraction === curve.threshold)?.kept ?? E; // --keep auto
  const kept = keptByScore(curve.scores, keep);
  let out: string | null = null;
  if (a.out) {
    // Both into one temporary sibling, renamed at the end: a killed export leaves no half-written OUT.
    const partial = `${a.out}.partial-${process.pid}`;
    partialExport = partial;
    step('exporting', 0, 1, `writing ${a.out}`);
    try {
      exportReduced(g, planFromKept(kept), partial, { method: `pruned by ${a.criterion} to ${keep} of ${E} experts per layer` });
      if (a.hf) exportHf(readMoeGraph(partial), join(partial, 'hf'));
      renameSync(partial, a.out);
    } catch (e) {
      rmSync(partial, { recursive: true, force: true });
      throw e;
    } finally {
      partialExport = undefined;
    }
    out = resolve(a.out);
  }
  const r: PruneResult = {
    baselineBitsPerToken: curve.baselineBitsPerToken,
    threshold: curve.threshold,
    tolerance: a.tolerance,
    criterion: a.criterion,
    keep,
    out,
    disabled: prunedPairs(kept, E),
    curve: curve.points,
    tokens: { corpus: profile.counts.tokens, eval: curve.evalTokens },
    warnings,
  };
  if (a.progressJson) emit({ event: 'done', command: 'prune', result: r });
  else if (a.json) io.out(`${JSON.stringify(r)}\n`);
  else {
    const rows = [['kept', a.criterion, 'frequency', 'random mean', 'random sd', ...(a.merge ? ['merged'] : [])], ...r.curve.map((p) => [`${(p.keptFraction * 100).toFixed(1)}%`, p.bitsPerToken.toFixed(4), p.frequencyBitsPerToken.toFixed(4), p.randomBitsPerToken.mean.toFixed(4), p.randomBitsPerToken.sd.toFixed(4), ...(a.merge ? [(p.mergedBitsPerToken ?? NaN).toFixed(4)] : [])])];
    io.out(`${table(rows)}threshold (≤ ${(a.tolerance * 100).toFixed(1)}% rise): ${(r.threshold * 100).toFixed(1)}% kept${out ? `; exported to ${out}` : ''}\n`);
  }
  return 0;
}

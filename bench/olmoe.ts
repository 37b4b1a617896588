// The imported-model cases of `npm run bench`: an OLMoE-shaped checkpoint (bench/olmoeCheckpoint.ts) through the real
// `moe-lens import` (dist/cli.js, its own process: time and peak RSS), then the imported model as the server runs it
// against its bare forward (bench/graphVariants.ts), a one-token edit, and the same weights as a dense graph; and the
// embedded model (built by the same builder, server/import/embedded.ts) is benchmarked in bench/run.ts's main table.
// Timed cases run interleaved (bare, full, analysis, bare, …) so that load from other processes hits all alike.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { analyzeText } from '../server/analysis/analyzer';
import { kvLayers, layerName, type MoeManifest } from '../server/model/manifest';
import { ModelSession, type ForwardResult } from '../server/model/modelSession';
import { writeBareGraph, writeDenseGraph } from './graphVariants';
import { benchEdit, docOf, median } from './measure';
import { profileExtra, type OpProfile } from './opProfile';
import { ensureOlmoeCheckpoint, type OlmoeShape } from './olmoeCheckpoint';

/** The session options the server uses (server/model/modelSession.ts), for every graph timed here. */
const SERVER_OPTIONS: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', enableCpuMemArena: false, extra: { session: { disable_prepacking: '1' } } };

export interface ImportedRow {
  tokens: number;
  /** median over rounds of analysis / bare and full graph / bare, each from one round */
  overhead: number;
  graphOverhead: number;
  rounds: number;
  bareMs: number;
  forwardMs: number;
  analyzeMs: number;
  tokenizeMs: number;
  postMs: number;
  incrementalMs: number;
  incrementalComputed: number;
  /** analyzeText with the forward passes replayed from memory: tokenising and post-processing alone (JS), ms */
  jsMs: number;
}

export interface DenseRow { tokens: number; oneOpMs: number; denseMs: number; ratio: number; maxLogitDiff: number; idsEqual: number; idsTotal: number }

export interface OlmoeResult {
  shape: OlmoeShape;
  params: number;
  checkpointMB: number;
  generatedMs?: number;
  import: { ms: number; peakRssMB: number; onnxDataMB: number } | { skipped: string };
  /** ModelSession.load (hashes of model.onnx and model.onnx.data, session, one-token probe) and the session alone */
  loadMs: number;
  createMs: number;
  rows: ImportedRow[];
  dense: DenseRow[];
  profile?: OpProfile;
}

interface Ctx {
  root: string;
  cache: string;
  text: string;
  reps: number;
  log: (s: string) => void;
  notes: string[];
}

const params = (s: OlmoeShape) => s.vocab * s.hidden * 2 + s.layers * (4 * s.hidden * s.hidden + 3 * s.hidden + s.experts * s.hidden + s.experts * 3 * s.hidden * s.expertWidth) + s.hidden;
const mb = (path: string) => statSync(path).size / 1e6;

function pastNames(m: MoeManifest): string[] {
  const out: string[] = [];
  for (let l = 0; l < kvLayers(m); l++) out.push(layerName(m.kvCache.pastKey, l), layerName(m.kvCache.pastValue, l));
  return out;
}

/** The outputs analysis fetches: all but the logits (ModelSession.forward with logits: false). */
function analysisOutputs(m: MoeManifest): string[] {
  const out = Object.values(m.outputs).filter((n): n is string => n !== undefined && n !== m.outputs.logits);
  for (let l = 0; l < kvLayers(m); l++) out.push(layerName(m.kvCache.presentKey, l), layerName(m.kvCache.presentValue, l));
  return out;
}

/** bare.onnx next to the model's graph (sharing its external weights): input_ids → logits only. */
function bareGraph(dir: string, m: MoeManifest, out = join(dir, 'bare.onnx')): string {
  writeBareGraph(join(dir, m.model ?? 'model.onnx'), out, { inputIds: m.inputs.inputIds, expertBias: m.inputs.expertBias, logits: m.outputs.logits, layers: m.layers, experts: m.experts, pasts: pastNames(m), heads: m.kvCache.heads, headDim: m.kvCache.headDim });
  return out;
}

async function bareForward(bare: ort.InferenceSession, s: ModelSession, ids: number[]): Promise<void> {
  const C = s.info.contextLength;
  for (let st = 0; st < ids.length; st += C) {
    const w = ids.slice(st, st + C);
    await bare.run({ [s.manifest.inputs.inputIds]: new ort.Tensor('int64', BigInt64Array.from(w, BigInt), [1, w.length]) });
  }
}

/** The graph as analysis runs it: every output but the logits, in windows of the context. */
async function fullForward(s: ModelSession, ids: number[]): Promise<void> {
  const { contextLength: C, layers: L, experts: E } = s.info;
  const zero = new Float32Array(L * E);
  for (let st = 0; st < ids.length; st += C) await s.forward(ids.slice(st, st + C), zero, undefined, { logits: false });
}

/** Times (ms) of each case over `reps` rounds after one warm-up round, the cases interleaved within a round. */
async function interleaved(cases: Record<string, () => Promise<unknown>>, reps: number): Promise<Record<string, number[]>> {
  const ts: Record<string, number[]> = {};
  for (let r = 0; r <= reps; r++) {
    for (const [k, fn] of Object.entries(cases)) {
      const t0 = performance.now();
      await fn();
      if (r > 0) (ts[k] ??= []).push(performance.now() - t0);
    }
  }
  return ts;
}

/** The median over rounds of a/b measured in the same round: other processes' load hits both sides of each ratio. */
const pairedRatio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]));

/**
 * The JS side of analyzeText alone (tokenising, copying the graph's outputs into the token-major result): the real
 * function on the real session, whose forward passes are answered from memory with the outputs they gave before.
 * Wall-clock ratios on a shared machine cannot resolve a few percent of a multi-second forward; this can.
 */
async function replayedAnalysis(s: ModelSession, doc: string, T: number): Promise<number> {
  const { contextLength: C, layers: L, experts: E } = s.info;
  const ids = s.tokenizer.encode(doc).ids.slice(0, T);
  const outs: ForwardResult[] = [];
  for (let st = 0; st < ids.length; st += C) outs.push(await s.forward(ids.slice(st, st + C), new Float32Array(L * E), undefined, { logits: false }));
  let i = 0;
  const replay = Object.assign(Object.create(s) as ModelSession, { forward: async () => outs[i++ % outs.length] });
  const ts: number[] = [];
  for (let r = 0; r < 6; r++) {
    i = 0;
    const t0 = performance.now();
    await analyzeText(replay, doc, 1, { maxTokens: T, rules: [] });
    if (r > 0) ts.push(performance.now() - t0);
  }
  return median(ts);
}

/** Bare forward, full graph forward, analysis and a one-token edit at each length, for one or more models at once. */
async function lengthRows(models: { key: string; s: ModelSession; bare: ort.InferenceSession }[], ctx: Ctx, lengths: number[]): Promise<Map<string, ImportedRow[]>> {
  const out = new Map<string, ImportedRow[]>(models.map((m) => [m.key, []]));
  for (const T of lengths) {
    const cases: Record<string, () => Promise<unknown>> = {};
    const docs = new Map<string, { doc: string; ids: number[] }>();
    for (const { key, s, bare } of models) {
      const doc = docOf(s, ctx.text, T);
      const ids = s.tokenizer.encode(doc).ids;
      docs.set(key, { doc, ids });
      const opts = { maxTokens: T, rules: [] };
      cases[`${key}/bare`] = () => bareForward(bare, s, ids);
      cases[`${key}/forward`] = () => fullForward(s, ids);
      cases[`${key}/analyze`] = () => analyzeText(s, doc, 1, opts);
      cases[`${key}/tokenize`] = async () => s.tokenizer.encode(doc);
    }
    ctx.log(`${models.map((m) => m.key).join(' + ')}: ${T} tokens`);
    const t = await interleaved(cases, ctx.reps);
    for (const { key, s } of models) {
      const { doc, ids } = docs.get(key)!;
      const edit = await benchEdit(s, doc, T + 8, 5);
      const jsMs = await replayedAnalysis(s, doc, T);
      const r = (k: string) => median(t[`${key}/${k}`]);
      const overhead = pairedRatio(t[`${key}/analyze`], t[`${key}/bare`]), graphOverhead = pairedRatio(t[`${key}/forward`], t[`${key}/bare`]);
      out.get(key)!.push({ tokens: Math.min(ids.length, T), overhead, graphOverhead, rounds: ctx.reps, bareMs: r('bare'), forwardMs: r('forward'), analyzeMs: r('analyze'), tokenizeMs: r('tokenize'), postMs: r('analyze') - r('forward') - r('tokenize'), incrementalMs: edit.ms, incrementalComputed: edit.computed, jsMs });
    }
  }
  return out;
}

/** `moe-lens import` in its own process (as a user runs it): wall time and the process's peak RSS. */
function runImport(ctx: Ctx, hf: string, out: string): OlmoeResult['import'] {
  const cli = join(ctx.root, 'dist', 'cli.js');
  if (!existsSync(cli)) return { skipped: 'dist/cli.js is missing' };
  rmSync(out, { recursive: true, force: true });
  const peakFile = join(ctx.cache, 'import-peak-rss.txt');
  rmSync(peakFile, { force: true });
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', join(ctx.root, 'bench', 'peakRss.cjs'), cli, 'import', hf, out], { encoding: 'utf8', env: { ...process.env, MOE_LENS_BENCH_PEAK_RSS: peakFile }, maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`moe-lens import failed (${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  return { ms, peakRssMB: Number(readFileSync(peakFile, 'utf8')), onnxDataMB: mb(join(out, 'model.onnx.data')) };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Feeds for a whole-sequence run of the full graph (zero bias, empty KV cache) and of the bare one. */
function feedsFor(m: MoeManifest, ids: number[]): { full: Record<string, ort.Tensor>; bare: Record<string, ort.Tensor> } {
  const input = new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
  const full: Record<string, ort.Tensor> = { [m.inputs.inputIds]: input, [m.inputs.expertBias]: new ort.Tensor('float32', new Float32Array(m.layers * m.experts), [m.layers, m.experts]) };
  for (const p of pastNames(m)) full[p] = new ort.Tensor('float32', new Float32Array(0), [1, m.kvCache.heads, 0, m.kvCache.headDim]);
  return { full, bare: { [m.inputs.inputIds]: input } };
}

/** The one-op graph against its dense rewrite, same weights, same feeds, all outputs: time and agreement. */
async function denseRows(dir: string, m: MoeManifest, s: ModelSession, ctx: Ctx, lengths: number[]): Promise<DenseRow[]> {
  const oneOp = await ort.InferenceSession.create(join(dir, 'model.onnx'), SERVER_OPTIONS);
  const dense = await ort.InferenceSession.create(join(dir, 'dense.onnx'), SERVER_OPTIONS);
  const rows: DenseRow[] = [];
  try {
    for (const T of lengths) {
      const ids = s.tokenizer.encode(docOf(s, ctx.text, T)).ids.slice(0, T);
      const feeds = feedsFor(m, ids).full;
      ctx.log(`one-op vs dense graph: ${T} tokens`);
      const a = await oneOp.run(feeds);
      const b = await dense.run(feeds);
      const ia = a[m.outputs.expertIds].data as BigInt64Array, ib = b[m.outputs.expertIds].data as BigInt64Array;
      let same = 0;
      for (let i = 0; i < ia.length; i++) if (ia[i] === ib[i]) same++;
      const t = await interleaved({ oneOp: () => oneOp.run(feeds), dense: () => dense.run(feeds) }, ctx.reps);
      rows.push({ tokens: ids.length, oneOpMs: median(t.oneOp), denseMs: median(t.dense), ratio: pairedRatio(t.dense, t.oneOp), maxLogitDiff: maxAbsDiff(a[m.outputs.logits].data as Float32Array, b[m.outputs.logits].data as Float32Array), idsEqual: same, idsTotal: ia.length });
    }
  } finally {
    await oneOp.release();
    await dense.release();
  }
  return rows;
}

export async function benchOlmoe(ctx: Ctx, shape: OlmoeShape, lengths: number[], denseLengths: number[], reimport: boolean): Promise<OlmoeResult> {
  const tag = `olmoe-${shape.layers}L-${shape.experts}e-top${shape.topK}-d${shape.hidden}-i${shape.expertWidth}`;
  const hf = join(ctx.cache, tag, 'hf');
  const dir = join(ctx.cache, tag, 'imported');
  mkdirSync(join(ctx.cache, tag), { recursive: true });
  const g0 = performance.now();
  const made = ensureOlmoeCheckpoint(hf, shape, join(ctx.root, 'node_modules', '@lenml', 'tokenizer-llama2', 'models'));
  const generatedMs = made ? performance.now() - g0 : undefined;
  ctx.log(`${tag}: checkpoint ${made ? `written in ${((generatedMs ?? 0) / 1000).toFixed(1)} s` : 'reused'} (${hf})`);
  let imp: OlmoeResult['import'];
  if (reimport || !existsSync(join(dir, 'moe.json'))) {
    ctx.log(`${tag}: moe-lens import`);
    imp = runImport(ctx, hf, dir);
  } else imp = { skipped: 'reused the previous import (--no-import)' };
  const m = JSON.parse(readFileSync(join(dir, 'moe.json'), 'utf8')) as MoeManifest;
  bareGraph(dir, m);
  writeDenseGraph(join(dir, 'model.onnx'), join(dir, 'dense.onnx'));
  const c0 = performance.now();
  await (await ort.InferenceSession.create(join(dir, 'model.onnx'), SERVER_OPTIONS)).release();
  const createMs = performance.now() - c0;
  const l0 = performance.now();
  const s = await ModelSession.load(dir, 'cpu');
  const loadMs = performance.now() - l0;
  const bare = await ort.InferenceSession.create(join(dir, 'bare.onnx'), SERVER_OPTIONS);
  let rows: ImportedRow[];
  let dense: DenseRow[];
  let profile: OpProfile | undefined;
  try {
    rows = (await lengthRows([{ key: 'olmoe', s, bare }], ctx, lengths)).get('olmoe')!;
    await bare.release();
    ctx.log('onnxruntime profile: full graph vs bare, 512 tokens');
    const ids = s.tokenizer.encode(docOf(s, ctx.text, 512)).ids.slice(0, 512);
    const f = feedsFor(m, ids);
    profile = await profileExtra(join(dir, 'model.onnx'), join(dir, 'bare.onnx'), f.full, f.bare, analysisOutputs(m), ids.length, ctx.cache, SERVER_OPTIONS);
    dense = await denseRows(dir, m, s, ctx, denseLengths);
  } finally {
    await s.dispose();
  }
  const checkpointMB = (readFileSync(join(hf, 'model.safetensors.index.json'), 'utf8').match(/"total_size":\s*(\d+)/)?.[1] ?? 0) as number / 1e6;
  return { shape, params: params(shape), checkpointMB, generatedMs, import: imp, loadMs, createMs, rows, dense, profile };
}

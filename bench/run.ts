// `npm run bench`: one run, side by side, on the embedded model and on a synthetic wide model (bench/out/wide, made by
// tools/model/export_bench.py). Writes bench/results.md and bench/results.json. Timings are medians after a warm-up;
// nothing here is asserted (the goals are reported as met or missed, with the reason where missed).
//   node bench/build-and-run.mjs [--quick] [--reps N] [--lengths 512,1024] [--no-torch] [--no-lsp] [--no-export] [--no-wide]
//     [--no-olmoe] [--no-import] [--olmoe-width 512x256] [--olmoe-lengths 512,2048] [--olmoe-reps N]
//     [--no-classic: skip the embedded and wide models, keeping their rows from the previous bench/results.json]
//   node bench/build-and-run.mjs --lsp-only [--servers A.js,B.js] [--models DIR,DIR] [--reps N] [--label-cache]: only the LSP case,
//     printed, not written (bench/lspOnly.ts)
// The imported cases (bench/olmoe.ts) need no Python: an OLMoE-shaped checkpoint is written into .cache/bench/ and
// imported with `moe-lens import`.
// --lengths limits the document sizes (the largest also sizes the JSON case); --quick is 512,1024 and one repetition.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { PackedRoutingResult, RoutingResult } from '../common/protocol';
import { packRouting, unpackRouting } from '../common/routingCodec';
import { analyzeText } from '../server/analysis/analyzer';
import { ModelSession, type ForwardResult } from '../server/model/modelSession';
import { surprisalBits } from '../server/routing/math';
import { hoverBench, quantile, type HoverBench } from './lsp';
import { lspOnly } from './lspOnly';
import { benchEdit, docOf } from './measure';
import { benchOlmoe, type OlmoeResult } from './olmoe';
import { olmoeGoals, olmoeMarkdown } from './olmoeReport';

const root = process.cwd();
const argv = process.argv.slice(2);
const flag = (f: string) => argv.includes(f);
const opt = (f: string) => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : undefined; };
const quick = flag('--quick');
const LENGTHS = (opt('--lengths') ?? (quick ? '512,1024' : '512,1024,2048,4096')).split(',').map(Number);
const REPS = Number(opt('--reps') ?? (quick ? 1 : 3));
const PY = '/usr/bin/python3';
const OUT = join(root, 'bench', 'out');
const EXPORT = join(root, 'tools', 'model', 'export_bench.py');
const notes: string[] = [];
const log = (s: string) => console.log(`[bench] ${s}`);

const median = (xs: number[]) => quantile(xs, 0.5);
/** Median ms of `reps` runs after one warm-up run. */
async function time(fn: () => Promise<unknown> | unknown, reps = REPS): Promise<number> {
  await fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

// ---------------------------------------------------------------- models
interface Bench {
  key: 'embedded' | 'wide';
  dir: string;
  bareOnnx: string;
  session: ModelSession;
  bare?: ort.InferenceSession;
  sameWeights?: string;
}

function python(args: string[], timeoutMs = 1_200_000): { ok: boolean; out: string } {
  if (!existsSync(PY)) return { ok: false, out: `${PY} not found` };
  const r = spawnSync(PY, [EXPORT, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/**
 * Is bench/out/wide the current export: dense MoE layers (an older one, one subgraph per expert, takes onnxruntime
 * ages to open) with the token_logprobs output the embedded model has?
 */
function denseWide(): boolean {
  try {
    const recipe = JSON.parse(readFileSync(join(OUT, 'wide', 'moe.json'), 'utf8')).provenance?.recipe;
    return recipe?.moeExport === 'dense' && recipe?.tokenLogprobs === true;
  } catch {
    return false;
  }
}

/** The embedded bare graph must carry the weights of media/model/model.onnx: re-made when the model is newer. */
function bareEmbeddedCurrent(): boolean {
  const bare = join(OUT, 'embedded-bare', 'model.onnx');
  return existsSync(bare) && statSync(bare).mtimeMs >= statSync(join(root, 'media', 'model', 'model.onnx')).mtimeMs;
}

function ensureModels(): void {
  const wide = !flag('--no-wide');
  const need = [join(OUT, 'embedded-bare', 'model.onnx'), join(OUT, 'embedded-bare', 'check.json'), ...(wide ? [join(OUT, 'wide', 'model.onnx'), join(OUT, 'wide-bare', 'model.onnx')] : [])];
  if ((need.every(existsSync) && bareEmbeddedCurrent() && (!wide || denseWide())) || flag('--no-export')) return;
  const args = wide && !denseWide() ? ['--synthetic', '--bare'] : ['--bare'];
  log(`exporting benchmark models: python3 ${EXPORT} ${args.join(' ')} (seconds)`);
  const r = python(args);
  log(r.out.trim());
  if (!r.ok) notes.push(`Exporting the benchmark models failed (${r.out.trim().split('\n').pop()}): the cases that need them are skipped.`);
}

async function loadBench(key: Bench['key'], dir: string, bareOnnx: string): Promise<Bench | undefined> {
  if (!existsSync(join(dir, 'moe.json'))) {
    notes.push(`${key}: no model at ${dir}; skipped.`);
    return undefined;
  }
  const session = await ModelSession.load(dir, 'cpu');
  let bare: ort.InferenceSession | undefined;
  if (existsSync(bareOnnx)) bare = await ort.InferenceSession.create(bareOnnx, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  else notes.push(`${key}: no bare graph at ${bareOnnx} (export failed or skipped); the capture overhead is not measured.`);
  return { key, dir, bareOnnx, session, bare };
}

async function bareForward(b: Bench, ids: number[]): Promise<Float32Array[]> {
  const C = b.session.info.contextLength;
  const outs: Float32Array[] = [];
  for (let s = 0; s < ids.length; s += C) {
    const w = ids.slice(s, s + C);
    const r = await b.bare!.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(w, BigInt), [1, w.length]) });
    outs.push(r.logits.data as Float32Array);
  }
  return outs;
}

async function fullForward(b: Bench, ids: number[]): Promise<void> {
  const { contextLength: C, layers: L, experts: E } = b.session.info;
  const zero = new Float32Array(L * E);
  // as analysis runs it: every output but the logits when the graph has token_logprobs
  for (let s = 0; s < ids.length; s += C) await b.session.forward(ids.slice(s, s + C), zero, undefined, { logits: false });
}

/**
 * The graph against PyTorch on a few tokens (check.json from export_bench.py: bench/out/wide for the stitched, dense
 * wide graph; bench/out/embedded-bare for the embedded model's PyTorch weights, read back from its ONNX file).
 */
async function checkAgainstTorch(b: Bench): Promise<string | undefined> {
  const f = b.key === 'wide' ? join(b.dir, 'check.json') : join(OUT, 'embedded-bare', 'check.json');
  if (!existsSync(f)) return undefined;
  const c = JSON.parse(readFileSync(f, 'utf8')) as { ids: number[]; logits_last: number[]; expert_ids: number[] };
  const { layers: L, experts: E, vocabSize: V } = b.session.info;
  const out = await b.session.forward(c.ids, new Float32Array(L * E));
  let d = 0;
  for (let i = 0; i < V; i++) d = Math.max(d, Math.abs(out.logits[(c.ids.length - 1) * V + i] - c.logits_last[i]));
  const same = c.expert_ids.filter((e, i) => e === out.expertIds[i]).length;
  return `ONNX vs PyTorch on ${c.ids.length} tokens: max |Δlogit| ${d.toExponential(1)}, ${same}/${c.expert_ids.length} expert ids equal`;
}

/** Do the bare graph and the full one carry the same weights? (the bare embedded graph comes from the checkpoint) */
async function checkSameWeights(b: Bench, ids: number[]): Promise<void> {
  if (!b.bare) return;
  const w = ids.slice(0, 64);
  const [bare] = await bareForward(b, w);
  const full = await b.session.forward(w, new Float32Array(b.session.info.layers * b.session.info.experts));
  let d = 0;
  for (let i = 0; i < bare.length; i++) d = Math.max(d, Math.abs(bare[i] - full.logits[i]));
  b.sameWeights = d < 1e-3 ? `same weights (max |Δlogit| ${d.toExponential(1)})` : `different weights (max |Δlogit| ${d.toFixed(2)}): same architecture, timing still comparable`;
}

// ---------------------------------------------------------------- documents
/** A long real document: the profile corpus shipped with the model plus this repository's sources. */
function corpus(): string {
  let text = '';
  const prof = join(root, 'media', 'model', 'profile');
  for (const f of readdirSync(prof).sort()) text += readFileSync(join(prof, f), 'utf8');
  for (const d of ['server', 'extension', 'common']) {
    const walk = (p: string) => {
      for (const n of readdirSync(p, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        if (n.isDirectory()) walk(join(p, n.name));
        else if (n.name.endsWith('.ts')) text += readFileSync(join(p, n.name), 'utf8');
      }
    };
    if (existsSync(join(root, d))) walk(join(root, d));
  }
  return text;
}

// ---------------------------------------------------------------- cases
interface LengthRow {
  tokens: number;
  bareMs?: number;
  forwardMs: number;
  analyzeMs: number;
  tokenizeMs: number;
  postMs: number;
  surprisalMs: number;
  /** a one-token edit at the end through DocumentAnalyses (the server's incremental path), in process */
  incrementalMs: number;
  incrementalComputed: number;
  torchMs?: number;
}

interface ModelRow {
  key: string;
  name: string;
  layers: number;
  experts: number;
  topK: number;
  contextLength: number;
  onnxMB: number;
  sameWeights?: string;
  lengths: LengthRow[];
  json?: { tokens: number; bytes: number; stringifyMs: number; parseMs: number; packedBytes: number; packMs: number; unpackMs: number };
  generation?: { context: number; newTokens: number; cachedTokS: number; recomputeTokS: number; prefillMs: number; note?: string };
  torch?: { version: string; threads: number; weights: string } | { skipped: string };
  hover?: HoverBench | { skipped: string };
  /** the same, started again with the cache folder of `hover`'s start: the expert labels read back, not profiled */
  hoverLaterStart?: HoverBench;
  attentionShare4k?: number;
  memoryProbe?: { arenaOn: { loaded: number; after: number }; arenaOff: { loaded: number; after: number }; noPrepack: { loaded: number; after: number } };
}

async function benchLengths(b: Bench, text: string): Promise<LengthRow[]> {
  const rows: LengthRow[] = [];
  const s = b.session;
  for (const T of LENGTHS) {
    const doc = docOf(s, text, T);
    const ids = s.tokenizer.encode(doc).ids;
    const opts = { maxTokens: T, rules: [] };
    log(`${b.key} ${T} tokens`);
    const bareMs = b.bare ? await time(() => bareForward(b, ids)) : undefined;
    const forwardMs = await time(() => fullForward(b, ids));
    const tokenizeMs = await time(() => s.tokenizer.encode(doc), Math.max(REPS, 5));
    const analyzeMs = await time(() => analyzeText(s, doc, 1, opts));
    // What the graph's token_logprobs output saves: the surprisal of every token computed in JS instead, a log-sum-exp
    // over the whole vocabulary per token (and the logits copied out of onnxruntime for it).
    const outs: ForwardResult[] = [];
    for (let st = 0; st < ids.length; st += s.info.contextLength) outs.push(await s.forward(ids.slice(st, st + s.info.contextLength), new Float32Array(s.info.layers * s.info.experts)));
    const V = s.info.vocabSize;
    const surprisalMs = await time(() => {
      let x = 0;
      outs.forEach((o, w) => { for (let j = 1; j < o.tokens; j++) x += surprisalBits(o.logits, ids[w * s.info.contextLength + j], (j - 1) * V, V); });
      return x;
    });
    outs.length = 0;
    const edit = await benchEdit(s, doc, T + 8, Math.max(REPS, 5));
    rows.push({ tokens: Math.min(ids.length, T), bareMs, forwardMs, analyzeMs, tokenizeMs, postMs: analyzeMs - forwardMs - tokenizeMs, surprisalMs, incrementalMs: edit.ms, incrementalComputed: edit.computed });
  }
  return rows;
}

async function benchJson(b: Bench, text: string): Promise<ModelRow['json']> {
  const T = Math.max(...LENGTHS);
  const r = await analyzeText(b.session, docOf(b.session, text, T), 1, { maxTokens: T, rules: [] });
  let s = '';
  const stringifyMs = await time(() => (s = JSON.stringify(r)), 5);
  const parseMs = await time(() => JSON.parse(s) as RoutingResult, 5);
  // The packed form the extension asks for (common/routingCodec.ts), serialised as it travels.
  let p = '';
  const packMs = await time(() => (p = JSON.stringify(packRouting(r))), 5);
  const unpackMs = await time(() => unpackRouting(JSON.parse(p) as PackedRoutingResult), 5);
  return { tokens: r.tokens, bytes: Buffer.byteLength(s), stringifyMs, parseMs, packedBytes: Buffer.byteLength(p), packMs, unpackMs };
}

/** Greedy decoding with the KV cache (one token per step) vs recomputing the whole sequence every step. */
async function benchGeneration(b: Bench, ids: number[]): Promise<ModelRow['generation']> {
  const s = b.session;
  const { contextLength: C, layers: L, experts: E, vocabSize: V } = s.info;
  const target = 1024;
  const context = Math.min(target, C);
  const cachedSteps = quick ? 8 : 32;
  const recomputeSteps = quick ? 2 : 8;
  const prompt = ids.slice(0, context - cachedSteps);
  const zero = new Float32Array(L * E);
  const argmax = (x: Float32Array, from: number) => {
    let best = 0;
    for (let i = 1; i < V; i++) if (x[from + i] > x[from + best]) best = i;
    return best;
  };
  await s.forward(prompt.slice(0, 16), zero); // warm-up
  const p0 = performance.now();
  let out = await s.forward(prompt, zero);
  const prefillMs = performance.now() - p0;
  let past = out.present;
  const t0 = performance.now();
  for (let i = 0; i < cachedSteps; i++) {
    out = await s.forward([argmax(out.logits, (out.tokens - 1) * V)], zero, past);
    past = out.present;
  }
  const cachedTokS = cachedSteps / ((performance.now() - t0) / 1000);
  const seq = ids.slice(0, context - recomputeSteps);
  const t1 = performance.now();
  for (let i = 0; i < recomputeSteps; i++) {
    const o = await s.forward(seq, zero);
    seq.push(argmax(o.logits, (o.tokens - 1) * V));
  }
  const recomputeTokS = recomputeSteps / ((performance.now() - t1) / 1000);
  return { context, newTokens: cachedSteps, cachedTokS, recomputeTokS, prefillMs, note: C < target ? `context is ${C} tokens: measured at ${context}, not 1k` : undefined };
}

function benchTorch(b: Bench, rows: LengthRow[], idsFile: string): ModelRow['torch'] {
  if (flag('--no-torch')) return { skipped: 'skipped (--no-torch)' };
  if (!existsSync(PY)) return { skipped: `skipped: ${PY} (Debian python3 with torch) is not installed` };
  const probe = spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: 'skipped: torch is not installed for /usr/bin/python3 (apt-get install python3-torch)' };
  log(`${b.key}: PyTorch eager`);
  const r = python(['--torch-time', b.key, '--lengths', LENGTHS.join(','), '--reps', String(REPS), '--ids', idsFile]);
  const line = r.out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!r.ok || !line) return { skipped: `failed: ${r.out.trim().split('\n').pop()}` };
  const j = JSON.parse(line) as { skipped?: string; torch: string; threads: number; weights?: string; ms: Record<string, number> };
  if (j.skipped) return { skipped: j.skipped };
  for (const row of rows) row.torchMs = j.ms[String(row.tokens)] ?? j.ms[String(LENGTHS.find((l) => l >= row.tokens))];
  return { version: j.torch, threads: j.threads, weights: j.weights ?? '?' };
}

/** Share of the forward FLOPs spent in attention scores (QK^T and AV over the full T x T, as the graph computes them). */
function attentionShare(s: ModelSession, T: number): number {
  const cfg = JSON.parse(readFileSync(join(s.dir, 'moe.json'), 'utf8'));
  const { layers: L, experts: E, topK: K, vocabSize: V, contextLength: C } = s.info;
  const D = cfg.kvCache.heads * cfg.kvCache.headDim;
  const F = (cfg.provenance?.recipe?.config?.d_ff as number | undefined) ?? 256;
  const W = Math.min(T, C);
  // The dense wide export runs every expert on every token (export_bench.py dense_moe); the embedded graph only k.
  const run = cfg.provenance?.recipe?.moeExport === 'dense' ? E : K;
  const linear = T * (L * (4 * D * D + E * D + run * 2 * D * F) + D * V);
  const attn = Math.ceil(T / W) * L * 2 * W * W * D;
  return attn / (linear + attn);
}

// ---------------------------------------------------------------- report
const f1 = (x?: number) => (x === undefined || !Number.isFinite(x) ? '—' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rx = (x?: number) => (x === undefined || !Number.isFinite(x) ? '—' : `${x.toFixed(2)}×`);

function machine() {
  let ortVersion = '?';
  try {
    ortVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version;
  } catch { /* unknown */ }
  return { cpu: cpus()[0]?.model ?? '?', cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30), node: process.version, onnxruntime: ortVersion, date: new Date().toISOString() };
}

interface Goal { goal: string; value: string; met: boolean | undefined; why?: string }

function goals(models: ModelRow[]): Goal[] {
  const out: Goal[] = [];
  for (const m of models) {
    const big = m.lengths[m.lengths.length - 1];
    const small = m.lengths[0];
    const over = m.lengths.filter((r) => r.bareMs).map((r) => r.analyzeMs / r.bareMs!);
    if (over.length) {
      const worst = Math.max(...over);
      const r = m.lengths.find((x) => x.bareMs && x.analyzeMs / x.bareMs === worst)!;
      out.push({ goal: `${m.key}: capture overhead ≤ 1.05× bare forward`, value: `${over.map((x) => x.toFixed(2)).join(' / ')}× (per length)`, met: worst <= 1.05,
        why: worst <= 1.05 ? undefined : `at ${r.tokens} tokens: graph outputs + bias ${(r.forwardMs - r.bareMs!).toFixed(0)} ms, tokenising ${r.tokenizeMs.toFixed(0)} ms, post-processing ${r.postMs.toFixed(0)} ms (router entropy, copies into token-major arrays; surprisal comes from the graph's token_logprobs, which spares ${r.surprisalMs.toFixed(0)} ms of log-sum-exp in JS)` });
    }
    const edits = m.lengths.map((r) => r.incrementalMs / r.analyzeMs);
    out.push({ goal: `${m.key}: one-token edit ≤ 0.10× full pass`, value: `${edits.map((x) => x.toFixed(3)).join(' / ')}×`, met: Math.max(...edits) <= 0.1 });
    const tr = m.lengths.filter((r) => r.torchMs).map((r) => r.torchMs! / r.analyzeMs);
    if (tr.length) out.push({ goal: `${m.key}: full analysis ≥ 2× faster than PyTorch eager`, value: `${tr.map((x) => x.toFixed(1)).join(' / ')}× faster`, met: Math.min(...tr) >= 2 });
    if (big.tokens > small.tokens) {
      const lin = big.tokens / small.tokens;
      const growth = big.analyzeMs / small.analyzeMs / lin;
      const share = m.attentionShare4k ?? 0;
      out.push({ goal: `${m.key}: cost growth ${small.tokens}→${big.tokens} within 1.2× of linear`, value: `${growth.toFixed(2)}× of linear`, met: growth <= 1.2,
        why: growth <= 1.2 ? undefined : m.contextLength < big.tokens ? `the model runs windows of ${m.contextLength} tokens, so its cost is linear in the number of windows by construction (attention is ${(share * 100).toFixed(0)}% of the FLOPs inside a window); the growth measured here comes from noise (other processes on the 2 cores) and from the post-processing, not from attention` : `attention over the full ${big.tokens}×${big.tokens} score matrix is ${(share * 100).toFixed(0)}% of the FLOPs at ${big.tokens} tokens (quadratic); the rest grows linearly` });
    }
    if (m.hover && 'p95' in m.hover) {
      out.push({ goal: `${m.key}: hover p95 ≤ 10 ms`, value: `${m.hover.p95.toFixed(1)} ms`, met: m.hover.p95 <= 10 });
      const later = m.hoverLaterStart ? `; later start (labels cached) ${settledRss(m.hoverLaterStart).toFixed(0)} MB (peak ${m.hoverLaterStart.peakRssMB.toFixed(0)} MB)` : '';
      if (m.key === 'embedded') out.push({ goal: 'embedded: server RSS ≤ 200 MB after a 4k-token document', value: `first start ${settledRss(m.hover).toFixed(0)} MB (peak ${m.hover.peakRssMB.toFixed(0)} MB)${later}`, met: settledRss(m.hover) <= 200 });
    }
  }
  return out;
}

/** RSS once the labels pass is over; a result from before that was measured (bench/results.json, --no-classic) has only rssMB */
const settledRss = (h: HoverBench): number => (h as Partial<HoverBench>).settledRssMB ?? h.rssMB;

function markdown(mach: ReturnType<typeof machine>, models: ModelRow[], gl: Goal[], extra: string[] = []): string {
  const L: string[] = [];
  L.push('# MoE Lens benchmark', '', `Generated by \`npm run bench\` (bench/run.ts) on ${mach.date}${quick ? ' — **quick run** (fewer lengths and repetitions)' : ''}.`, '');
  L.push(`Machine: ${mach.cpu}, ${mach.cores} cores, ${mach.memoryGB} GiB; Node ${mach.node}; onnxruntime-node ${mach.onnxruntime} (CPU execution provider, graph optimisation "all", default threads). Medians of ${REPS} runs after a warm-up.`, '');
  L.push('## Models', '', '| model | layers × experts, top-k | context | model.onnx | notes |', '|---|---|---:|---:|---|');
  for (const m of models) L.push(`| ${m.key} (${m.name}) | ${m.layers} × ${m.experts}, top-${m.topK} | ${m.contextLength} | ${m.onnxMB.toFixed(0)} MB | ${m.sameWeights ? `bare graph vs full: ${m.sameWeights}` : ''} |`);
  L.push('', `The wide model is random (fixed seed), same graph conventions as the embedded one; made by \`tools/model/export_bench.py --synthetic\`. ${WIDE_NOTE} The bare graphs (input_ids → logits, zero bias inside, no router outputs, no KV cache) by \`--bare\`; the embedded one from the weights read back from media/model/model.onnx (so bare, full and PyTorch run the shipped weights).`, '');
  L.push('## Analysis cost by length (ms)', '', 'Documents longer than the context are analysed in windows of the context (the embedded model: 512), as the server does; the bare forward and PyTorch run the same windows.', '');
  L.push('| model | tokens | bare forward | full graph forward | full analysis | overhead (analysis / bare) | tokenise | post-processing | surprisal in JS (spared by token_logprobs) | one-token edit (tokens run) | edit / full | PyTorch eager | PyTorch / ours |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const m of models) for (const r of m.lengths) L.push(`| ${m.key} | ${r.tokens} | ${f1(r.bareMs)} | ${f1(r.forwardMs)} | ${f1(r.analyzeMs)} | ${rx(r.bareMs && r.analyzeMs / r.bareMs)} | ${f1(r.tokenizeMs)} | ${f1(r.postMs)} | ${f1(r.surprisalMs)} | ${f1(r.incrementalMs)} (${r.incrementalComputed}) | ${(r.incrementalMs / r.analyzeMs).toFixed(3)} | ${f1(r.torchMs)} | ${rx(r.torchMs && r.torchMs / r.analyzeMs)} |`);
  L.push('', '"one-token edit": the last character of the document replaced (alternately `;` and `,`), re-analysed by `DocumentAnalyses.get` — the server\'s own path (server/lsp/documentAnalyses.ts → server/analysis/incremental.ts): the KV cache of the unchanged prefix is kept, only the changed tokens run, and the first changed token\'s predecessor runs again for its logits. In process, without stdio; the LSP table below has the same edit over the wire. "edit / full" divides by the full analysis of the unedited document of the same length.', '');
  for (const m of models) if (m.torch && 'skipped' in m.torch) L.push(`PyTorch eager (${m.key}): ${m.torch.skipped}.`);
  for (const m of models) if (m.torch && 'version' in m.torch) L.push(`PyTorch eager (${m.key}): torch ${m.torch.version}, ${m.torch.threads} threads, no_grad, weights ${m.torch.weights}.`);
  L.push('', '## Generation (greedy, batch 1)', '', '| model | context | KV cache tokens/s | recompute tokens/s | speed-up | prefill (ms) | note |', '|---|---:|---:|---:|---:|---:|---|');
  for (const m of models) if (m.generation) { const g = m.generation; L.push(`| ${m.key} | ${g.context} | ${g.cachedTokS.toFixed(1)} | ${g.recomputeTokS.toFixed(2)} | ${(g.cachedTokS / g.recomputeTokS).toFixed(0)}× | ${g.prefillMs.toFixed(0)} | ${g.note ?? ''} |`); }
  L.push('', '## Over LSP: analysis, one-token edit, hover, server memory', '', '`node dist/server.js --stdio`, one document of ~4k tokens opened (first analysis: from didOpen to the routing result, JSON included; in brackets the server\'s own time, `elapsedMs`), then 6 one-token edits at its end (didChange → moeLens/routing, median; in brackets the server\'s time and the tokens it ran, `RoutingResult.incremental.computed`), then random positions hovered one after another (after 20 warm-up hovers). RSS from /proc after all that and after the expert labels\' profiling pass that the server starts at load (models with a profile corpus; the labels arrive in the status, "labels": ms from the model ready), peak over the whole run. The server is started with a fresh cache folder as the extension starts it (its global storage): the first start profiles the labels and caches them, a later start reads them back (the embedded model\'s second row).', '');
  L.push('| model | tokens | first analysis (ms) | one-token edit, JSON (ms) | one-token edit, packed delta (ms) | hovers | p50 (ms) | p95 (ms) | max (ms) | labels (ms) | RSS (MB) | peak RSS (MB) |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const hoverRow = (key: string, h: HoverBench) => `| ${key} | ${h.tokens} | ${h.firstAnalysisMs.toFixed(0)} (${h.firstServerMs}) | ${h.editMs.toFixed(1)} (${h.editServerMs}; ${h.editComputed} tokens) | ${h.editPackedMs.toFixed(1)} | ${h.hovers} | ${h.p50.toFixed(2)} | ${h.p95.toFixed(2)} | ${h.max.toFixed(1)} | ${Number.isFinite(h.labelsMs) ? h.labelsMs.toFixed(0) : '—'} | ${settledRss(h).toFixed(0)} | ${h.peakRssMB.toFixed(0)} |`;
  for (const m of models) {
    if (m.hover && 'p95' in m.hover) L.push(hoverRow(m.key, m.hover));
    else if (m.hover) L.push(`| ${m.key} | — | — | — | — | — | — | — | — | — | — | ${(m.hover as { skipped: string }).skipped} |`);
    if (m.hoverLaterStart) L.push(hoverRow(`${m.key}, later start (labels cached)`, m.hoverLaterStart));
  }
  for (const m of models) if (m.hover && 'loadedRssMB' in m.hover) L.push('', `${m.key}: the server used ${m.hover.loadedRssMB.toFixed(0)} MB with the model loaded and no document open.`);
  for (const m of models) if (m.memoryProbe) { const p = m.memoryProbe; L.push('', `Memory probe (${m.key} graph alone in a Node process, a 4k-token document in windows): onnxruntime CPU arena and memory patterns on: ${p.arenaOn.loaded.toFixed(0)} MB loaded → ${p.arenaOn.after.toFixed(0)} MB after; off: ${p.arenaOff.loaded.toFixed(0)} MB → ${p.arenaOff.after.toFixed(0)} MB; arena on, weight pre-packing off (\`session.disable_prepacking\`): ${p.noPrepack.loaded.toFixed(0)} MB → ${p.noPrepack.after.toFixed(0)} MB. A bare Node process is ~40 MB, onnxruntime-node loaded ~52 MB.`); }
  L.push('', '## moeLens/routing payload', '', '| model | tokens | JSON size | JSON.stringify (ms) | JSON.parse (ms) | packed size | pack + stringify (ms) | parse + unpack (ms) |', '|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const m of models) if (m.json) L.push(`| ${m.key} | ${m.json.tokens} | ${(m.json.bytes / 2 ** 20).toFixed(2)} MiB | ${m.json.stringifyMs.toFixed(1)} | ${m.json.parseMs.toFixed(1)} | ${(m.json.packedBytes / 2 ** 20).toFixed(2)} MiB | ${m.json.packMs.toFixed(1)} | ${m.json.unpackMs.toFixed(1)} |`);
  L.push('', 'The extension asks for the packed form (`encoding: "packed"`, common/routingCodec.ts): the per-token arrays as base64 typed arrays (offsets and token ids uint32, expert ids uint8 up to 256 experts, weights, entropy and surprisal float32), and with `since` only the tokens after the prefix that did not change since the result it holds. JSON stays the default for scripts and the CLI.');
  L.push('', ...extra);
  L.push('', '## Goals', '', '| goal | this run | met |', '|---|---|---|');
  for (const g of gl) L.push(`| ${g.goal} | ${g.value} | ${g.met === undefined ? '—' : g.met ? 'yes' : '**no**'} |`);
  const why = gl.filter((g) => g.met === false && g.why);
  if (why.length) L.push('', 'Where missed, measured:', '', ...why.map((g) => `- ${g.goal}: ${g.why}.`));
  if (notes.length) L.push('', '## Notes', '', ...notes.map((n) => `- ${n}`));
  return `${L.join('\n')}\n`;
}

// ---------------------------------------------------------------- memory probe
/**
 * In a child process (`run.js --rss-probe DIR on|off`): the model's graph in a bare onnxruntime session with the CPU
 * memory arena and memory patterns on or off, a 4k-token document in windows; prints the RSS. Shows how much of the
 * server's memory is onnxruntime's arena.
 */
async function rssProbe(dir: string, mode: string): Promise<void> {
  const arena = mode !== 'off';
  const m = JSON.parse(readFileSync(join(dir, 'moe.json'), 'utf8'));
  const sess = await ort.InferenceSession.create(join(dir, m.model ?? 'model.onnx'), { executionProviders: ['cpu'], graphOptimizationLevel: 'all', enableCpuMemArena: arena, enableMemPattern: arena, ...(mode === 'noprepack' ? { extra: { session: { disable_prepacking: '1' } } } : {}) });
  const C = m.contextLength as number;
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
  const loaded = rss();
  for (let s = 0; s < 4096; s += C) {
    const T = Math.min(C, 4096 - s);
    const feeds: Record<string, ort.Tensor> = {
      [m.inputs.inputIds]: new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, i) => BigInt((i * 37) % 4000)), [1, T]),
      [m.inputs.expertBias]: new ort.Tensor('float32', new Float32Array(m.layers * m.experts), [m.layers, m.experts]),
    };
    for (let l = 0; l < m.layers; l++) for (const n of [m.kvCache.pastKey, m.kvCache.pastValue]) feeds[n.replace('{layer}', String(l))] = new ort.Tensor('float32', new Float32Array(0), [1, m.kvCache.heads, 0, m.kvCache.headDim]);
    await sess.run(feeds);
  }
  console.log(JSON.stringify({ loaded, after: rss() }));
}

function probe(dir: string, mode: 'on' | 'off' | 'noprepack'): { loaded: number; after: number } | undefined {
  const r = spawnSync(process.execPath, [__filename, '--rss-probe', dir, mode], { encoding: 'utf8' });
  const line = (r.stdout ?? '').trim().split('\n').pop();
  try {
    return JSON.parse(line ?? '');
  } catch {
    return undefined;
  }
}


const WIDE_NOTE = 'Its MoE layers are exported dense (export_bench.py `dense_moe`): every expert runs on every token as one batched MatMul over the stacked weights [E, D, F], and a [tokens, E] mask of the gate weights (0 for unselected experts) combines them — the same routing outputs (checked against PyTorch below) with a graph whose size does not depend on the expert count, at E/k = 8× the FFN FLOPs of sparse dispatch. (The earlier per-expert export could not be opened by onnxruntime in useful time.) PyTorch eager runs model.py as it is, with sparse per-expert dispatch.';

// ---------------------------------------------------------------- main
async function main(): Promise<void> {
  if (flag('--rss-probe')) return rssProbe(argv[1], argv[2]);
  if (flag('--lsp-only')) return lspOnly(root, corpus(), opt, flag, log);
  const runStarted = performance.now();
  const mach = machine();
  log(`${mach.cpu}, ${mach.cores} cores, Node ${mach.node}, onnxruntime-node ${mach.onnxruntime}; lengths ${LENGTHS.join(',')}, ${REPS} reps`);
  mkdirSync(OUT, { recursive: true });
  const classic = !flag('--no-classic');
  if (classic) ensureModels();
  const text = corpus();
  const benches = !classic ? [] : [
    await loadBench('embedded', join(root, 'media', 'model'), join(OUT, 'embedded-bare', 'model.onnx')),
    flag('--no-wide') ? undefined : await loadBench('wide', join(OUT, 'wide'), join(OUT, 'wide-bare', 'model.onnx')),
  ].filter((b): b is Bench => !!b);
  if (flag('--no-wide')) notes.push('The wide model was skipped (--no-wide).');
  // The CPU may be shared (on the machine these results came from, a model fine-tune ran at times): say how busy it was.
  notes.push(`Load average (1 min) at the start: ${loadavg()[0].toFixed(2)} on ${cpus().length} cores.`);
  const models: ModelRow[] = [];
  const serverJs = join(root, 'dist', 'server.js');
  if (!classic) {
    const prev = JSON.parse(readFileSync(join(root, 'bench', 'results.json'), 'utf8')) as { machine: { date: string }; models: ModelRow[] };
    models.push(...prev.models);
    notes.push(`The embedded and wide models' rows come from the previous run (${prev.machine.date}; --no-classic): not measured side by side with the imported cases below.`);
  }
  for (const b of benches) {
    const s = b.session;
    const ids = s.tokenizer.encode(docOf(s, text, Math.max(...LENGTHS, 1024))).ids;
    const idsFile = join(OUT, 'ids.json');
    writeFileSync(idsFile, JSON.stringify(ids));
    await checkSameWeights(b, ids);
    const parity = await checkAgainstTorch(b);
    if (parity) b.sameWeights = `${b.sameWeights ?? ''}; ${parity}`;
    const row: ModelRow = {
      key: b.key, name: s.info.name, layers: s.info.layers, experts: s.info.experts, topK: s.info.topK, contextLength: s.info.contextLength,
      onnxMB: Number(readFileSync(join(b.dir, s.manifest.model ?? 'model.onnx')).length) / 1e6, sameWeights: b.sameWeights,
      lengths: await benchLengths(b, text),
    };
    row.attentionShare4k = attentionShare(s, row.lengths[row.lengths.length - 1].tokens);
    row.json = await benchJson(b, text);
    log(`${b.key}: generation`);
    row.generation = await benchGeneration(b, ids);
    row.torch = benchTorch(b, row.lengths, idsFile);
    models.push(row);
    await b.bare?.release();
    await s.dispose();
    if (flag('--no-lsp')) row.hover = { skipped: 'skipped (--no-lsp)' };
    else if (!existsSync(serverJs)) row.hover = { skipped: 'dist/server.js is missing (npm run build)' };
    else {
      log(`${b.key}: hover over LSP`);
      const cacheDir = mkdtempSync(join(tmpdir(), 'moe-lens-bench-'));
      try {
        const start = () => hoverBench(serverJs, docOf(s, text, 4088), b.key === 'embedded' ? '' : b.dir, quick ? 100 : 500, { cacheDir });
        row.hover = await start();
        if (b.key === 'embedded') row.hoverLaterStart = await start();
      } catch (e) {
        row.hover = { skipped: `failed: ${(e as Error).message}` };
      } finally {
        rmSync(cacheDir, { recursive: true, force: true });
      }
    }
  }
  const emb = models.find((m) => m.key === 'embedded');
  if (emb && classic) {
    log('memory probe: onnxruntime arena on / off');
    const on = probe(join(root, 'media', 'model'), 'on');
    const off = probe(join(root, 'media', 'model'), 'off');
    const noPrepack = probe(join(root, 'media', 'model'), 'noprepack');
    if (on && off && noPrepack) emb.memoryProbe = { arenaOn: on, arenaOff: off, noPrepack };
  }
  // The imported case (bench/olmoe.ts): an OLMoE-shaped checkpoint through `moe-lens import`.
  const ctx = { root, cache: join(root, '.cache', 'bench'), text, reps: Number(opt('--olmoe-reps') ?? (quick ? 2 : 5)), log, notes };
  mkdirSync(ctx.cache, { recursive: true });
  let olmoe: OlmoeResult | undefined;
  if (!flag('--no-olmoe')) {
    const [hidden, expertWidth] = (opt('--olmoe-width') ?? '512x256').split('x').map(Number);
    const lengths = (opt('--olmoe-lengths') ?? (quick ? '512' : '512,2048')).split(',').map(Number);
    olmoe = await benchOlmoe(ctx, { hidden, expertWidth, layers: 16, experts: 64, topK: 8, heads: 16, vocab: 50304 }, lengths, [512], !flag('--no-import'));
  }
  notes.push(`Load average (1 min) at the end: ${loadavg()[0].toFixed(2)}; the whole run took ${((performance.now() - runStarted) / 60000).toFixed(1)} min.`);
  const gl = [...goals(models), ...olmoeGoals(olmoe)];
  const md = markdown(mach, models, gl, olmoeMarkdown(olmoe));
  writeFileSync(join(root, 'bench', 'results.md'), md);
  writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify({ machine: mach, quick, reps: REPS, lengths: LENGTHS, models, olmoe, goals: gl, notes }, null, 1)}\n`);
  console.log(md);
  log('wrote bench/results.md and bench/results.json');
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});

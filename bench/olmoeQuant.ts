// `npm run bench:quant`: OLMoE-1B-7B at its full shape (16 layers × 64 experts, top-8, d 2048, expert width 1024,
// vocabulary 50304; bench/olmoeCheckpoint.ts writes it streamed, random bf16, ~13.8 GB) imported with --quant int8
// and int4 by the real `moe-lens import` (its own process: wall time, peak RSS), then each model measured in a fresh
// process as the server runs it: ModelSession.load (size, mtime and sampled-chunk check) against streaming the data
// file through Node's sha256 in the same process, full analysis at 512 and 2048 tokens, a one-token edit through
// DocumentAnalyses (the server's incremental path), and that process's peak RSS. Issue 18's goals, side by side.
//   node bench/quant-run.mjs [--layers N] [--lengths 512,2048] [--quant int8,int4] [--keep]
//   --transformers PYTHON: also Hugging Face transformers on the same checkpoint and token ids (bench/transformers_olmoe.py:
//   output_router_logits=True, torch threads = cores), fp32 and bf16, each in its own process (time, peak RSS).
//   --llamacpp (with --transformers PYTHON: its converter is Python): also llama.cpp through node-llama-cpp, the same
//   checkpoint converted to GGUF F16, Q8_0 and Q4_0, its prompt processing of the same ids (bench/llamacpp.ts).
//   node bench/quant-run.mjs --compare DIR,DIR,… [--rounds 3] [--lengths 2048]: model directories side by side (e.g.
//   one import with moe.json's quantization.prePacking true and a copy with false), each round measuring every
//   directory once in a fresh process, in turn; medians per directory.
// Results: bench/quant-results.json and the table printed as Markdown (pasted into bench/results.md and the README).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { analyzeText } from '../server/analysis/analyzer';
import { SERVER_PROCESS_ENV } from '../common/serverEnv';
import { ModelSession } from '../server/model/modelSession';
import { MoeTokenizer } from '../server/model/tokenizer';
import { benchEdit, docOf, median } from './measure';
import { gemmGflops } from './gemmRate';
import { llamaCppMarkdown, llamaCppRows, type LlamaRow } from './llamacpp';
import { ensureOlmoeCheckpoint, type OlmoeShape } from './olmoeCheckpoint';

const root = resolve(__dirname, '..', '..');
const argv = process.argv.slice(2);
const opt = (f: string) => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : undefined; };
const hwmMB = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024;

/** A long real text: the embedded model's profile corpus and this repository's sources (as bench/run.ts). */
function corpus(): string {
  let text = '';
  const prof = join(root, 'media', 'model', 'profile');
  for (const f of readdirSync(prof).sort()) text += readFileSync(join(prof, f), 'utf8');
  const walk = (p: string) => {
    for (const n of readdirSync(p, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (n.isDirectory()) walk(join(p, n.name));
      else if (n.name.endsWith('.ts')) text += readFileSync(join(p, n.name), 'utf8');
    }
  };
  for (const d of ['server', 'extension', 'common']) walk(join(root, d));
  return text;
}

async function sha256Ms(path: string): Promise<number> {
  const t0 = performance.now();
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) h.update(chunk as Buffer);
  h.digest();
  return performance.now() - t0;
}

interface Measured {
  loadMs: number;
  sha256Ms: number;
  oneTokenMs: number;
  rows: { tokens: number; analysisMs: number }[];
  edit: { tokens: number; ms: number; computed: number };
  peakRssMB: number;
  dataMB: number;
}

/** In a child process: one model as the server runs it. Prints one JSON line. */
async function measure(dir: string, lengths: number[]): Promise<void> {
  const data = join(dir, 'model.onnx.data');
  const sha = await sha256Ms(data); // first, so the load below does not find the file warmer than sha256 did
  const t0 = performance.now();
  const s = await ModelSession.load(dir, 'cpu');
  const loadMs = performance.now() - t0;
  const t1 = performance.now();
  await analyzeText(s, 'x', 1, { maxTokens: 8, rules: [] });
  const oneTokenMs = performance.now() - t1;
  const text = corpus();
  const rows: Measured['rows'] = [];
  for (const T of lengths) {
    const doc = docOf(s, text, T);
    const t = performance.now();
    await analyzeText(s, doc, 1, { maxTokens: T, rules: [] });
    rows.push({ tokens: T, analysisMs: performance.now() - t });
  }
  const T = Math.max(...lengths);
  const edit = await benchEdit(s, docOf(s, text, T), T + 8, 3);
  const out: Measured = { loadMs, sha256Ms: sha, oneTokenMs, rows, edit: { tokens: T, ...edit }, peakRssMB: hwmMB(), dataMB: statSync(data).size / 1e6 };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

interface QuantRow { quant: string; import: { ms: number; peakRssMB: number }; model: Measured }

function runImport(hf: string, out: string, quant: string): QuantRow['import'] {
  const peakFile = `${out}.import-peak-rss.txt`;
  rmSync(out, { recursive: true, force: true });
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', join(root, 'bench', 'peakRss.cjs'), join(root, 'dist', 'cli.js'), 'import', hf, out, '--quant', quant], { encoding: 'utf8', env: { ...process.env, MOE_LENS_BENCH_PEAK_RSS: peakFile }, maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`moe-lens import --quant ${quant} failed (${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  console.log(r.stdout.trim().split('\n').filter((l) => /needs about/.test(l)).join('\n'));
  return { ms, peakRssMB: Number(readFileSync(peakFile, 'utf8')) };
}

function measureChild(dir: string, lengths: number[]): Measured {
  // the environment the extension starts the server with (common/serverEnv.ts): its peak RSS is the server's
  const r = spawnSync(process.execPath, ['--enable-source-maps', __filename, '--measure', dir, '--lengths', lengths.join(',')], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, ...SERVER_PROCESS_ENV } });
  if (r.status !== 0) throw new Error(`measuring ${dir} failed (${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-5).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measured;
}

const gb = (mb: number) => (mb / 1000).toFixed(2);

interface TransformersRow { dtype: string; tokens: number; loadS: number; forwardS: number; peakRssMB: number; threads: number }

/** The checkpoint's first `n` token ids of the bench text (what the analysis rows ran), as {"ids": […]} in a file. */
async function idsFile(hf: string, n: number): Promise<string> {
  const tok = await MoeTokenizer.fromFile(join(hf, 'tokenizer.json'));
  const ids = tok.encode(corpus().slice(0, n * 40)).ids.slice(0, n);
  const file = join(hf, '..', `ids-${n}.json`);
  writeFileSync(file, JSON.stringify({ ids }));
  return file;
}

function transformers(python: string, hf: string, file: string): TransformersRow[] {
  return ['fp32', 'bf16'].map((dtype) => {
    console.log(`transformers ${dtype} …`);
    const r = spawnSync(python, [join(root, 'bench', 'transformers_olmoe.py'), hf, file, dtype], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`transformers ${dtype} failed (${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
    const row = JSON.parse(r.stdout.trim().split('\n').pop()!) as TransformersRow;
    console.log(`  ${JSON.stringify(row)}`);
    return row;
  });
}

function transformersMarkdown(rows: TransformersRow[], ours: QuantRow[]): string {
  const n = rows[0].tokens;
  const L = ['', `Hugging Face transformers on the same checkpoint and token ids (${n} tokens, one forward with output_router_logits=True, ${rows[0].threads} torch threads), each dtype in its own process, against MoE Lens's full analysis of ${n} tokens:`, ''];
  L.push('| runs | analysis | peak RSS | MoE Lens int8 speed-up (goal ≥ 1.5× over fp32) | MoE Lens int8 RSS ratio (goal ≤ 0.3× fp32) |', '|---|---:|---:|---:|---:|');
  const int8 = ours.find((r) => r.quant === 'int8')?.model;
  const full = (m: Measured) => m.rows.find((x) => x.tokens === n)?.analysisMs ?? NaN;
  for (const t of rows) {
    const vs = int8 ? `${((t.forwardS * 1000) / full(int8)).toFixed(2)}× | ${(int8.peakRssMB / t.peakRssMB).toFixed(2)}×` : '– | –';
    L.push(`| transformers ${t.dtype} | ${t.forwardS.toFixed(1)} s | ${gb(t.peakRssMB)} GB | ${vs} |`);
  }
  for (const r of ours) L.push(`| MoE Lens ${r.quant} | ${(full(r.model) / 1000).toFixed(1)} s | ${gb(r.model.peakRssMB)} GB | | |`);
  return L.join('\n');
}

/**
 * Multiply-adds ×2 of one token's forward at position `pos`: the active weights (attention projections, router, top-k
 * experts' gate/up/down, lm_head) and the attention scores and weighted values over `pos` keys.
 */
export function flopsPerToken(s: OlmoeShape, pos: number): number {
  const perLayer = 4 * s.hidden * s.hidden + s.experts * s.hidden + s.topK * 3 * s.hidden * s.expertWidth + 2 * pos * s.hidden;
  return 2 * (s.layers * perLayer + s.vocab * s.hidden);
}

/** The physical floor of a full analysis of `n` tokens: its FLOPs at the measured GEMM rate. */
function floorLine(shape: OlmoeShape, n: number, gflops: number): string {
  let flops = 0;
  for (let t = 0; t < n; t++) flops += flopsPerToken(shape, t);
  return `Physical floor of ${n} tokens: ${(flops / 1e12).toFixed(2)} TFLOP (${(flopsPerToken(shape, n / 2) / 1e9).toFixed(2)} GFLOP a token at its middle position) at onnxruntime's float32 GEMM rate measured in this run, ${gflops.toFixed(0)} GFLOP/s (2048³ MatMul, median of 5): ${(flops / gflops / 1e9).toFixed(1)} s.`;
}

function markdown(shape: OlmoeShape, params: number, rows: QuantRow[], lengths: number[]): string {
  const L: string[] = [];
  L.push(`OLMoE-1B-7B's shape (${shape.layers} layers × ${shape.experts} experts, top-${shape.topK}, d ${shape.hidden}, expert width ${shape.expertWidth}, vocabulary ${shape.vocab}; ${(params / 1e9).toFixed(2)}B parameters, random bf16 weights), ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${new Date().toISOString().slice(0, 10)}.`, '');
  L.push(`| quant | import | import peak RSS | model.onnx.data | load | sha256 of the data file | load / sha256 | 1-token document | ${lengths.map((t) => `analysis ${t} tok`).join(' | ')} | one-token edit at ${Math.max(...lengths)} (tokens run) | edit / full | server peak RSS | goal: ≤ 1.25 × data + 600 MB |`);
  L.push(`|---|---:|---:|---:|---:|---:|---:|---:|${lengths.map(() => '---:|').join('')}---:|---:|---:|---|`);
  for (const r of rows) {
    const m = r.model;
    const full = m.rows[m.rows.length - 1].analysisMs;
    const goal = 1.25 * m.dataMB + 600;
    L.push(`| ${r.quant} | ${(r.import.ms / 1000).toFixed(0)} s | ${gb(r.import.peakRssMB)} GB | ${gb(m.dataMB)} GB | ${(m.loadMs / 1000).toFixed(2)} s | ${(m.sha256Ms / 1000).toFixed(2)} s | ${(m.loadMs / m.sha256Ms).toFixed(2)}× | ${(m.oneTokenMs / 1000).toFixed(2)} s | ${m.rows.map((x) => `${(x.analysisMs / 1000).toFixed(1)} s`).join(' | ')} | ${(m.edit.ms / 1000).toFixed(2)} s (${m.edit.computed}) | ${(m.edit.ms / full).toFixed(3)}× | ${gb(m.peakRssMB)} GB | ${m.peakRssMB <= goal ? 'yes' : '**no**'} (${gb(goal)} GB) |`);
  }
  return L.join('\n');
}

/** --compare: each directory measured once per round, in turn, so the machine's load falls on all of them alike. */
function compare(dirs: string[], lengths: number[], rounds: number): void {
  const runs = new Map<string, Measured[]>(dirs.map((d) => [d, []]));
  for (let r = 0; r < rounds; r++) {
    for (const d of dirs) {
      const m = measureChild(d, lengths);
      runs.get(d)!.push(m);
      console.log(`round ${r + 1} ${d}: ${JSON.stringify(m)}`);
    }
  }
  const s = (x: number) => `${(x / 1000).toFixed(2)} s`;
  console.log(`\n| model directory | load | 1-token document | ${lengths.map((t) => `analysis ${t} tok`).join(' | ')} | one-token edit (tokens run) | peak RSS |`);
  console.log(`|---|---:|---:|${lengths.map(() => '---:|').join('')}---:|---:|`);
  for (const [d, ms] of runs) {
    const med = (f: (m: Measured) => number) => median(ms.map(f));
    const rows = lengths.map((_, i) => s(med((m) => m.rows[i].analysisMs))).join(' | ');
    console.log(`| ${d} | ${s(med((m) => m.loadMs))} | ${s(med((m) => m.oneTokenMs))} | ${rows} | ${s(med((m) => m.edit.ms))} (${ms[0].edit.computed}) | ${gb(med((m) => m.peakRssMB))} GB |`);
  }
  console.log(`\nmedians of ${rounds} rounds, ${cpus().length} cores, ${new Date().toISOString().slice(0, 10)}`);
}

async function main(): Promise<void> {
  const lengths = (opt('--lengths') ?? '512,2048').split(',').map(Number);
  if (argv[0] === '--measure') return measure(argv[1], lengths);
  const dirs = opt('--compare');
  if (dirs) return compare(dirs.split(','), lengths, Number(opt('--rounds') ?? 3));
  if (!existsSync(join(root, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run npm run build');
  const shape: OlmoeShape = { hidden: 2048, expertWidth: 1024, layers: Number(opt('--layers') ?? 16), experts: 64, topK: 8, heads: 16, vocab: 50304 };
  const quants = (opt('--quant') ?? 'int8,int4').split(',');
  const cache = join(root, '.cache', 'bench', `olmoe-full-${shape.layers}L`);
  mkdirSync(cache, { recursive: true });
  const hf = join(cache, 'hf');
  const t0 = performance.now();
  const made = ensureOlmoeCheckpoint(hf, shape, join(root, 'node_modules', '@lenml', 'tokenizer-llama2', 'models'));
  console.log(`checkpoint ${made ? `written in ${((performance.now() - t0) / 1000).toFixed(0)} s` : 'reused'}: ${hf}`);
  const params = shape.vocab * shape.hidden * 2 + shape.layers * (4 * shape.hidden * shape.hidden + 3 * shape.hidden + shape.experts * shape.hidden + shape.experts * 3 * shape.hidden * shape.expertWidth) + shape.hidden;
  const rows: QuantRow[] = [];
  for (const quant of quants) {
    const out = join(cache, quant);
    console.log(`import --quant ${quant} …`);
    const imp = runImport(hf, out, quant);
    console.log(`  ${(imp.ms / 1000).toFixed(0)} s, peak RSS ${gb(imp.peakRssMB)} GB; measuring …`);
    const model = measureChild(out, lengths);
    rows.push({ quant, import: imp, model });
    console.log(`  ${JSON.stringify(model)}`);
    if (!argv.includes('--keep')) rmSync(out, { recursive: true, force: true });
  }
  const python = opt('--transformers');
  const ids = python ? await idsFile(hf, Math.max(...lengths)) : '';
  const hfRows = python ? transformers(python, hf, ids) : [];
  const llama: LlamaRow[] = python && argv.includes('--llamacpp') ? await llamaCppRows(hf, ids, join(cache, 'gguf'), python) : [];
  const gflops = await gemmGflops();
  const md = `${markdown(shape, params, rows, lengths)}\n\n${floorLine(shape, Math.max(...lengths), gflops)}` + (hfRows.length ? transformersMarkdown(hfRows, rows) : '') + (llama.length ? `\n\n${llamaCppMarkdown(llama)}` : '');
  writeFileSync(join(root, 'bench', 'quant-results.json'), `${JSON.stringify({ date: new Date().toISOString(), cores: cpus().length, memoryGiB: totalmem() / 2 ** 30, shape, params, rows, gemmGflops: gflops, transformers: hfRows, llamaCpp: llama }, null, 1)}\n`);
  console.log(`\n${md}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});

// llama.cpp on the bench's checkpoint, for issue 18's comparison: the tool people use to run MoE models on a laptop
// CPU, through node-llama-cpp. The Hugging Face checkpoint is converted to GGUF F16 by llama.cpp's own
// convert_hf_to_gguf.py, then to Q8_0 and Q4_0 by llama_model_quantize (what llama-quantize runs), both from the
// llama.cpp release that node-llama-cpp ships (bench/llamacpp_gguf.py); each file is then loaded in a fresh child
// process on the CPU and its prompt processing of the given token ids timed (bench/llamacpp-measure.mjs).
//
// node-llama-cpp is not a project dependency (CI never installs it): it is installed on demand into .cache/llamacpp,
// pinned, with its prebuilt CPU binary for this platform and no install scripts, and imported from there by path at
// run time. The GGUF files are cached in the work folder and remade when the checkpoint is newer.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';

export const NODE_LLAMA_CPP_VERSION = '3.21.1';
export type LlamaQuant = 'F16' | 'Q8_0' | 'Q4_0';
export const LLAMA_QUANTS: readonly LlamaQuant[] = ['F16', 'Q8_0', 'Q4_0'];

export interface LlamaRow {
  quant: LlamaQuant;
  tokens: number;
  /** evaluateWithoutGeneratingNewTokens over all the ids, after a warm-up: prompt processing, nothing generated */
  promptMs: number;
  /** CPU time of the child over that prompt, all threads (spin-waits included): on a shared machine, what it got */
  promptCpuMs: number;
  /** VmHWM of the child process that loaded the model and processed the prompt */
  peakRssMB: number;
  ggufMB: number;
  /** how this GGUF file was made */
  converter: string;
  /** loadModel (mmap) in the same child, before the warm-up */
  loadMs: number;
  /** what the context ran with, as node-llama-cpp reports it */
  settings: { threads: number; contextSize: number; batchSize: number; flashAttention: string | boolean; mmap: boolean; warmupTokens: number };
}

const root = resolve(__dirname, '..', '..');
const installDir = join(root, '.cache', 'llamacpp');

class LlamaCppError extends Error {}

function run(cmd: string, args: string[], what: string, opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (r.error) throw new LlamaCppError(`${what}: ${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-12).join('\n');
    throw new LlamaCppError(`${what} failed (exit ${r.status ?? r.signal}):\n${tail}`);
  }
  return String(r.stdout ?? '');
}

interface NodeLlamaCpp {
  /** node_modules/node-llama-cpp */
  moduleDir: string;
  /** the prebuilt libllama shared library: llama_model_quantize lives there */
  libllama: string;
  /** llama.cpp's source at the release node-llama-cpp was built from (a git bundle in the package) */
  sourceBundle: string;
  llamaCppTag: string;
}

/** Installs node-llama-cpp (pinned) and its prebuilt CPU binary into .cache/llamacpp if needed. */
export function ensureNodeLlamaCpp(log: (line: string) => void = console.log): NodeLlamaCpp {
  if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) {
    throw new LlamaCppError(`the llama.cpp bench runs on Linux x64/arm64 (peak RSS comes from /proc); this is ${process.platform}-${process.arch}`);
  }
  const binaryPackage = `@node-llama-cpp/linux-${process.arch}`;
  const nm = join(installDir, 'node_modules');
  const moduleDir = join(nm, 'node-llama-cpp');
  const version = (dir: string) => { try { return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version as string; } catch { return undefined; } };
  if (version(moduleDir) !== NODE_LLAMA_CPP_VERSION || version(join(nm, binaryPackage)) !== NODE_LLAMA_CPP_VERSION) {
    log(`[llama.cpp] installing node-llama-cpp@${NODE_LLAMA_CPP_VERSION} and ${binaryPackage} into ${installDir}`);
    mkdirSync(installDir, { recursive: true });
    writeFileSync(join(installDir, 'package.json'), `${JSON.stringify({
      name: 'moe-lens-llamacpp', private: true, description: 'node-llama-cpp for bench/llamacpp.ts; created by it',
      dependencies: { 'node-llama-cpp': NODE_LLAMA_CPP_VERSION, [binaryPackage]: NODE_LLAMA_CPP_VERSION },
    }, null, 2)}\n`);
    // No install scripts: node-llama-cpp's postinstall would try to download or build a binary when none matched; the
    // prebuilt one is named above. No optional packages: they are the CUDA, Vulkan and other platforms' builds (0.7 GB).
    const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    run('npm', ['install', '--ignore-scripts', '--omit=optional', '--no-audit', '--no-fund', '--loglevel=error'], 'npm install node-llama-cpp', { cwd: installDir, env: cleanEnv });
    if (version(moduleDir) !== NODE_LLAMA_CPP_VERSION) throw new LlamaCppError(`npm did not install node-llama-cpp@${NODE_LLAMA_CPP_VERSION} into ${installDir}`);
  }
  const bins = join(nm, binaryPackage, 'bins', `linux-${process.arch}`);
  const lib = existsSync(bins) ? readdirSync(bins).find((f) => /^libllama(\.v[\d.]+)?\.so$/.test(f)) : undefined;
  if (!lib) throw new LlamaCppError(`${binaryPackage} has no libllama*.so in ${bins}`);
  const sourceBundle = join(moduleDir, 'llama', 'gitRelease.bundle');
  const info = JSON.parse(readFileSync(join(moduleDir, 'llama', 'llama.cpp.info.json'), 'utf8')) as { tag: string };
  if (!existsSync(sourceBundle)) throw new LlamaCppError(`node-llama-cpp ships no llama.cpp source bundle at ${sourceBundle}`);
  return { moduleDir, libllama: join(bins, lib), sourceBundle, llamaCppTag: info.tag };
}

/** llama.cpp's converter (convert_hf_to_gguf.py, conversion/, gguf-py/) taken from the source bundle, once. */
function ensureConverter(n: NodeLlamaCpp): string {
  const dir = join(installDir, `llama.cpp-${n.llamaCppTag}`);
  if (existsSync(join(dir, 'convert_hf_to_gguf.py'))) return dir;
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const git = join(tmp, 'bundle.git');
  run('git', ['init', '-q', '--bare', git], 'git init');
  run('git', ['--git-dir', git, 'fetch', '-q', n.sourceBundle, 'HEAD'], 'git fetch from node-llama-cpp\'s llama.cpp bundle');
  const tar = join(tmp, 'src.tar');
  run('git', ['--git-dir', git, 'archive', '-o', tar, 'FETCH_HEAD', 'convert_hf_to_gguf.py', 'conversion', 'gguf-py', 'LICENSE'], 'git archive of the converter');
  run('tar', ['-xf', tar, '-C', tmp], 'tar -x');
  rmSync(git, { recursive: true, force: true });
  rmSync(tar, { force: true });
  renameSync(tmp, dir);
  return dir;
}

/** The newest modification time of the checkpoint's files: a GGUF made before it is stale. */
function checkpointTime(hf: string): number {
  if (!existsSync(join(hf, 'config.json'))) throw new LlamaCppError(`${hf} is not a Hugging Face checkpoint (no config.json)`);
  return Math.max(...readdirSync(hf).map((f) => statSync(join(hf, f)).mtimeMs));
}

function readIds(idsFile: string, vocab: number): number[] {
  let ids: unknown;
  try { ids = (JSON.parse(readFileSync(idsFile, 'utf8')) as { ids?: unknown }).ids; } catch (e) { throw new LlamaCppError(`${idsFile}: ${(e as Error).message}`); }
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((t) => Number.isInteger(t) && t >= 0 && t < vocab)) {
    throw new LlamaCppError(`${idsFile} must hold {"ids": [...]}: a non-empty list of token ids below the vocabulary size ${vocab}`);
  }
  return ids as number[];
}

interface Measured { tokens: number; loadMs: number; promptMs: number; promptCpuMs: number; peakRssMB: number; settings: LlamaRow['settings'] }

function measureChild(n: NodeLlamaCpp, gguf: string, idsFile: string, threads: number): Measured {
  const out = run(process.execPath, [join(root, 'bench', 'llamacpp-measure.mjs'), n.moduleDir, gguf, idsFile, String(threads)], `node-llama-cpp on ${gguf}`);
  return JSON.parse(out.trim().split('\n').pop()!) as Measured;
}

/**
 * Converts the checkpoint `hf` to GGUF F16, Q8_0 and Q4_0 in `workDir` (cached), then times llama.cpp's prompt
 * processing of the ids in `idsFile` ({"ids": [...]}) for each, in a fresh process per file, on all cores.
 * `python` must have torch, transformers, numpy and PyYAML (the converter's needs).
 */
export async function llamaCppRows(hf: string, idsFile: string, workDir: string, python: string): Promise<LlamaRow[]> {
  const since = checkpointTime(hf);
  const config = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8')) as { vocab_size: number };
  const ids = readIds(idsFile, config.vocab_size);
  const n = ensureNodeLlamaCpp();
  const src = ensureConverter(n);
  const script = join(root, 'bench', 'llamacpp_gguf.py');
  const threads = cpus().length;
  mkdirSync(workDir, { recursive: true });
  const file = (q: LlamaQuant) => join(workDir, `model-${q}.gguf`);
  const made = `convert_hf_to_gguf.py of llama.cpp ${n.llamaCppTag} (node-llama-cpp ${NODE_LLAMA_CPP_VERSION}'s source), Llama 2 vocabulary`;
  const converter: Record<LlamaQuant, string> = {
    F16: made,
    Q8_0: `${made}, then llama_model_quantize Q8_0`,
    Q4_0: `${made}, then llama_model_quantize Q4_0`,
  };
  for (const q of LLAMA_QUANTS) {
    const out = file(q);
    if (existsSync(out) && statSync(out).mtimeMs > since) continue;
    const partial = `${out}.partial`;
    rmSync(partial, { force: true });
    const t0 = performance.now();
    try {
      if (q === 'F16') run(python, [script, 'convert', src, hf, partial], `converting ${hf} to GGUF F16`);
      else run(python, [script, 'quantize', n.libllama, file('F16'), partial, q, String(threads)], `quantising to ${q}`);
      renameSync(partial, out);
    } finally {
      rmSync(partial, { force: true });
    }
    console.log(`[llama.cpp] ${q}: ${out} made in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const rows: LlamaRow[] = [];
  for (const q of LLAMA_QUANTS) {
    const m = measureChild(n, file(q), idsFile, threads);
    if (m.tokens !== ids.length) throw new LlamaCppError(`the child evaluated ${m.tokens} tokens, not ${ids.length}`);
    rows.push({ quant: q, tokens: m.tokens, promptMs: m.promptMs, promptCpuMs: m.promptCpuMs, peakRssMB: m.peakRssMB, ggufMB: statSync(file(q)).size / 1e6, converter: converter[q], loadMs: m.loadMs, settings: m.settings });
    console.log(`[llama.cpp] ${q}: ${JSON.stringify(rows[rows.length - 1])}`);
  }
  return rows;
}

/** The rows as a Markdown table. */
export function llamaCppMarkdown(rows: LlamaRow[]): string {
  const L = ['| llama.cpp | GGUF | load | prompt | tokens/s | CPU time over the prompt | peak RSS | threads, context, batch |', '|---|---:|---:|---:|---:|---:|---:|---|'];
  for (const r of rows) {
    const s = r.settings;
    L.push(`| ${r.quant} | ${(r.ggufMB / 1000).toFixed(2)} GB | ${(r.loadMs / 1000).toFixed(2)} s | ${(r.promptMs / 1000).toFixed(2)} s (${r.tokens} tok) | ${(r.tokens / (r.promptMs / 1000)).toFixed(0)} | ${(r.promptCpuMs / 1000).toFixed(1)} s | ${(r.peakRssMB / 1000).toFixed(2)} GB | ${s.threads}, ${s.contextSize}, ${s.batchSize} |`);
  }
  return L.join('\n');
}

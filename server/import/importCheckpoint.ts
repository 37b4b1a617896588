// `moe-lens import HF_DIR OUT_DIR`: a Hugging Face MoE checkpoint → a MoE Lens model directory (moe.json, model.onnx,
// model.onnx.data, tokenizer.json). Everything is written into a temporary sibling of OUT_DIR and renamed at the end,
// so OUT_DIR either holds a complete, verified model or does not exist. The extension's import command runs the CLI
// (`--progress json`) in a child process; tests and scripts call this function with a progress callback and a signal.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Checkpoint } from './checkpoint';
import { parseConfig } from './config';
import { ImportCancelled, ImportError } from './errors';
import { DataFile, GraphBuilder, type WeightDtype } from './graph/builder';
import { buildModel } from './graph/model';
import type { WeightSource } from './graph/weights';
import { importedManifest } from './outputManifest';
import { removeStaleImports, temporaryPrefix } from './staleImports';
import { readTokenizerConfig } from './tokenizerFiles';
import { verifyModel } from './verify';

export interface ImportProgress {
  phase: 'weights' | 'hashing' | 'verifying' | 'done';
  bytesDone: number;
  bytesTotal: number;
  tensorsDone: number;
  tensorsTotal: number;
}

export interface ImportOptions {
  dtype?: WeightDtype;
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
  /** moe.json's name (default: the checkpoint folder's name) */
  name?: string;
  /** load the result in onnxruntime and run one token before publishing it (default true) */
  verify?: boolean;
  /** build the graph without the expert_bias input: tests only (they compare it with the steerable graph); its
   *  moe.json lacks inputs.expertBias, so the server refuses it */
  steerable?: boolean;
}

export interface ImportResult {
  outDir: string;
  architecture: string;
  /** decoder layers */
  layers: number;
  /** the layers with a router (moe.json's layers) */
  routerLayers: number;
  experts: number;
  topK: number;
  bytesRead: number;
  tensorsRead: number;
  /** checkpoint tensors the graph did not use (e.g. lm_head.weight of a tied model): worth a look when unexpected */
  unused: string[];
}

export async function importCheckpoint(hfDir: string, outDir: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const src = resolve(hfDir);
  const out = resolve(outDir);
  if (!existsSync(src) || !statSync(src).isDirectory()) throw new ImportError('is not a folder', hfDir);
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) throw new ImportError('already exists and is not an empty folder: choose a new OUT_DIR', outDir);
  const configFile = join(src, 'config.json');
  if (!existsSync(configFile)) throw new ImportError('file is missing', 'config.json');
  const configText = readFileSync(configFile, 'utf8');
  const spec = parseConfig(configText);
  const tokens = readTokenizerConfig(src);
  const checkpoint = Checkpoint.open(src);
  removeStaleImports(dirname(out), basename(out));
  const tmp = join(dirname(out), `${temporaryPrefix(basename(out))}${process.pid}-${Date.now().toString(36)}`);
  const progress: ImportProgress = { phase: 'weights', bytesDone: 0, bytesTotal: checkpoint.totalBytes, tensorsDone: 0, tensorsTotal: checkpoint.files.reduce((n, f) => n + f.tensors.size, 0) };
  const report = () => opts.onProgress?.({ ...progress });
  const check = () => {
    if (opts.signal?.aborted) throw new ImportCancelled();
  };
  const used = new Set<string>();
  const source: WeightSource = {
    has: (name) => checkpoint.has(name),
    read: (name, shape) => {
      check();
      const values = checkpoint.read(name, shape);
      used.add(name);
      progress.bytesDone += checkpoint.info(name)!.length;
      progress.tensorsDone++;
      report();
      return values;
    },
  };
  try {
    mkdirSync(tmp, { recursive: true });
    const dtype = opts.dtype ?? 'fp32';
    const data = new DataFile(join(tmp, 'model.onnx.data'), 'model.onnx.data');
    let dataSha: string;
    let graph: Uint8Array;
    try {
      const g = new GraphBuilder(data, dtype);
      buildModel(g, source, spec, { steerable: opts.steerable });
      graph = g.encode(`${spec.architecture} imported from ${basename(src)} by moe-lens import`);
    } finally {
      dataSha = data.close();
    }
    writeFileSync(join(tmp, 'model.onnx'), graph);
    copyFileSync(join(src, 'tokenizer.json'), join(tmp, 'tokenizer.json'));
    progress.phase = 'hashing';
    report();
    const weightsSha = await checkpoint.weightsSha256(opts.signal);
    check();
    const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
    const manifest = importedManifest(opts.name ?? basename(src), spec, tokens, dtype, { config: sha(configText), weights: weightsSha, model: sha(graph), data: dataSha });
    if (opts.steerable === false) delete (manifest.inputs as Partial<typeof manifest.inputs>).expertBias;
    writeFileSync(join(tmp, 'moe.json'), `${JSON.stringify(manifest, null, 1)}\n`);
    if (opts.verify !== false && opts.steerable !== false) {
      progress.phase = 'verifying';
      report();
      await verifyModel(tmp, manifest);
    }
    check();
    if (existsSync(out)) rmdirSync(out); // an empty folder the user made for it
    renameSync(tmp, out);
    progress.phase = 'done';
    report();
    const unused = checkpoint.files.flatMap((f) => [...f.tensors.keys()]).filter((n) => !used.has(n));
    return { outDir: out, architecture: spec.architecture, layers: spec.layers, routerLayers: spec.moeLayers.length, experts: spec.experts, topK: spec.topK, bytesRead: progress.bytesDone, tensorsRead: progress.tensorsDone, unused };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    checkpoint.close();
  }
}

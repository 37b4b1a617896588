// `moe-lens import HF_DIR OUT_DIR`: a Hugging Face MoE checkpoint → a MoE Lens model directory (moe.json, model.onnx,
// model.onnx.data, tokenizer.json). Everything is written into a temporary sibling of OUT_DIR and renamed at the end,
// so OUT_DIR either holds a complete, verified model or does not exist. The extension's import command runs the CLI
// (`--progress json`) in a child process; tests and scripts call this function with a progress callback and a signal.
import { createHash } from 'node:crypto';
import { existsSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { ImportSummary } from '../../common/importEvents';
import { ModelLoadError } from '../model/errors';
import { ModelSession } from '../model/modelSession';
import { checkCheckpointBounds, checkWeightBytes, maxHeaderBytes, maxTensors } from './bounds';
import { Checkpoint, INDEX_FILE, SINGLE_FILE } from './checkpoint';
import { parseConfig } from './config';
import { ImportCancelled, ImportError } from './errors';
import { DataFile, GraphBuilder, type WeightDtype } from './graph/builder';
import { buildModel } from './graph/model';
import type { WeightSource } from './graph/weights';
import { readInputText } from './inputFiles';
import { hubBlobsFor } from '../model/confinedFiles';
import { checkOutputFolder, makeTemporaryFolder } from './outputFolder';
import { importedManifest } from './outputManifest';
import { MAX_HEADER } from './safetensors';
import { removeStaleImports, temporaryPrefix } from './staleImports';
import { readTokenizer, readTokenizerConfig } from './tokenizerFiles';
import { totalmem } from 'node:os';
import { statfsSync } from 'node:fs';
import { quantLabel, type QuantOptions } from './graph/quantize';
import { checkBlocks, estimate, estimateLine, fitProblem } from './quantPlan';
import { dataCheckOf } from '../model/weightsCheck';

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
  /** moe.json's name (default: the checkpoint folder's name; for a hub cache snapshot, the repository's) */
  name?: string;
  /** load the result as the server does (ModelSession.load: manifest, tokenizer, graph, a probe run) before publishing it (default true) */
  verify?: boolean;
  /** build the graph without the expert_bias input: tests only (they compare it with the steerable graph); its
   *  moe.json lacks inputs.expertBias, so the server refuses it */
  steerable?: boolean;
  /** block-wise symmetric int8/int4 experts, projections and embeddings (routers stay float32) */
  quant?: QuantOptions;
  /** the size estimate line, printed before anything is converted */
  onEstimate?: (line: string) => void;
  /** memory and free disk to check the estimate against (default: this machine's); tests pass their own */
  machine?: { memory: number; freeDisk: number | null };
}

/** What an import produced (shared with the CLI's JSON progress lines, common/importEvents.ts). */
export type ImportResult = ImportSummary;

/**
 * moe.json's default name: the checkpoint folder's name, except for a Hugging Face cache snapshot
 * (`models--ORG--NAME/snapshots/REV`), whose folder name is a commit hash: there it is "ORG/NAME", as the hub names it.
 */
export function defaultModelName(src: string): string {
  const blobs = hubBlobsFor(src);
  if (!blobs) return basename(src);
  return basename(dirname(blobs)).replace(/^(models|datasets|spaces)--/, '').split('--').join('/');
}

/** The source checkpoint's config.json, kept beside the model (docs/PRUNING.md, `--hf`). */
export const SOURCE_CONFIG = 'source-config.json';

export async function importCheckpoint(hfDir: string, outDir: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const src = resolve(hfDir);
  const out = resolve(outDir);
  if (!existsSync(src) || !statSync(src).isDirectory()) throw new ImportError('is not a folder', hfDir);
  // Everything that can be refused is refused before the first weight is converted: OUT_DIR (outputFolder.ts), then
  // every input through the confined reader (inputFiles.ts), the sizes (bounds.ts), the tokenizer as the server reads it.
  await checkOutputFolder(out, outDir, src);
  const configText = await readInputText(src, 'config.json', 'config');
  const spec = parseConfig(configText);
  const { text: tokenizerText, tokens } = await readTokenizer(src, spec, await readTokenizerConfig(src));
  if (opts.quant) checkBlocks(spec, opts.quant);
  // The headers are read and checked against the spec before the estimate: a checkpoint that cannot be imported is
  // refused for what it is, on any machine, not for the size its config claims.
  const checkpoint = await Checkpoint.open(src, { maxHeaderBytes: maxHeaderBytes(spec, MAX_HEADER), maxTensors: maxTensors(spec), checkFileBytes: (n) => checkWeightBytes(spec, n, 'weight files') });
  const tmp = join(dirname(out), `${temporaryPrefix(basename(out))}${process.pid}-${Date.now().toString(36)}`);
  try {
    checkCheckpointBounds(spec, checkpoint.tensorCount, checkpoint.totalBytes, checkpoint.files.length > 1 ? INDEX_FILE : SINGLE_FILE);
    const est = estimate(spec, opts.quant ?? null, opts.quant ? quantLabel(opts.quant) : opts.dtype ?? 'fp32');
    const machine = opts.machine ?? { memory: totalmem(), freeDisk: freeDiskOf(dirname(out)) };
    opts.onEstimate?.(estimateLine(est, machine.memory, machine.freeDisk));
    const tooBig = fitProblem(est, machine.memory, machine.freeDisk);
    if (tooBig) throw new ImportError(tooBig, hfDir);
    removeStaleImports(dirname(out), basename(out));
    await makeTemporaryFolder(tmp, outDir);
  } catch (e) {
    checkpoint.close();
    throw e;
  }
  const progress: ImportProgress = { phase: 'weights', bytesDone: 0, bytesTotal: checkpoint.totalBytes, tensorsDone: 0, tensorsTotal: checkpoint.tensorCount };
  const report = () => opts.onProgress?.({ ...progress });
  const check = () => {
    if (opts.signal?.aborted) throw new ImportCancelled();
  };
  const used = new Set<string>();
  const source: WeightSource = {
    has: (name) => checkpoint.has(name),
    fileOf: (name) => checkpoint.fileOf(name),
    read: (name, shape) => {
      check();
      const values = checkpoint.read(name, shape);
      used.add(name);
      progress.bytesDone += checkpoint.info(name)!.length;
      progress.tensorsDone++;
      report();
      return values;
    },
    readBytes: (name, shape) => {
      check();
      const values = checkpoint.readBytes(name, shape);
      used.add(name);
      progress.bytesDone += checkpoint.info(name)!.length;
      progress.tensorsDone++;
      report();
      return values;
    },
  };
  try {
    const dtype = opts.dtype ?? 'fp32';
    const data = new DataFile(join(tmp, 'model.onnx.data'), 'model.onnx.data');
    let dataSha: string;
    let graph: Uint8Array;
    try {
      const g = new GraphBuilder(data, dtype, opts.quant ?? null);
      buildModel(g, source, spec, { steerable: opts.steerable });
      graph = g.encode(`${spec.architecture} imported from ${basename(src)} by moe-lens import`);
    } finally {
      dataSha = data.close();
    }
    writeFileSync(join(tmp, 'model.onnx'), graph);
    writeFileSync(join(tmp, 'tokenizer.json'), tokenizerText); // the text that was parsed and checked, not the file again
    // the source config, for `moe-lens prune --hf` (a pruned Hugging Face checkpoint needs it with the new expert count)
    writeFileSync(join(tmp, SOURCE_CONFIG), configText);
    progress.phase = 'hashing';
    report();
    const weightsSha = await checkpoint.weightsSha256(opts.signal);
    check();
    const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
    const manifest = importedManifest(opts.name ?? defaultModelName(src), spec, tokens, opts.quant ? quantLabel(opts.quant) : dtype, { config: sha(configText), weights: weightsSha, model: sha(graph), data: dataSha });
    // Size, mtime and sampled chunks of the finished data file: the load checks these instead of hashing it again
    // (server/model/weightsCheck.ts); a rename keeps the mtime.
    manifest.provenance.dataCheck = await dataCheckOf(join(tmp, 'model.onnx.data'));
    if (opts.quant) manifest.quantization = quantizationRecord(opts.quant);
    if (opts.steerable === false) delete (manifest.inputs as Partial<typeof manifest.inputs>).expertBias;
    writeFileSync(join(tmp, 'moe.json'), `${JSON.stringify(manifest, null, 1)}\n`);
    if (opts.verify !== false && opts.steerable !== false) {
      progress.phase = 'verifying';
      report();
      await verifyAsServer(tmp);
    }
    check();
    if (existsSync(out)) rmdirSync(out); // an empty folder the user made for it
    renameSync(tmp, out);
    progress.phase = 'done';
    report();
    const unused = checkpoint.files.flatMap((f) => [...f.tensors.keys()]).filter((n) => !used.has(n));
    // A result line stays small whatever the checkpoint holds: the first names and the count.
    return { outDir: out, architecture: spec.architecture, layers: spec.layers, routerLayers: spec.moeLayers.length, experts: spec.experts, topK: spec.topK, bytesRead: progress.bytesDone, tensorsRead: progress.tensorsDone, unused: unused.slice(0, UNUSED_SHOWN), unusedTotal: unused.length };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    checkpoint.close();
  }
}

function freeDiskOf(dir: string): number | null {
  try {
    const st = statfsSync(existsSync(dir) ? dir : dirname(dir));
    return st.bavail * st.bsize;
  } catch {
    return null; // a file system that cannot say: the disk is not checked
  }
}

function quantizationRecord(o: QuantOptions): NonNullable<ReturnType<typeof importedManifest>['quantization']> {
  return {
    bits: o.bits,
    block: o.block,
    scheme: 'block-wise symmetric (scale = max|w| / qmax per block, no zero point)',
    experts: 'com.microsoft.QMoE',
    projections: 'com.microsoft.MatMulNBits (attention, lm_head, dense and shared-expert MLPs)',
    embeddings: 'com.microsoft.GatherBlockQuantized, int8',
    routers: 'float32 (router and shared-expert gate matrices are never quantised)',
    prePacking: true, // the QMoE weights are defaulted inputs (quantLayers.ts): only the projections get pre-packed
  };
}

/** How many unused tensor names a result lists (the count is always given). */
export const UNUSED_SHOWN = 20;

/**
 * The importer's last check is the server's load: ModelSession.load on the temporary folder (manifest schema,
 * tokenizer parsed and within vocabSize, BOS known, graph signature, hashes, a one-token probe whose outputs must be
 * finite and in range, contextLength). A model the server would refuse is never published.
 */
async function verifyAsServer(dir: string): Promise<void> {
  let session: ModelSession;
  try {
    session = await ModelSession.load(dir, 'cpu');
  } catch (e) {
    if (e instanceof ModelLoadError) throw new ImportError(`fails the server's load check: ${e.message}`, 'the converted model');
    throw e;
  }
  await session.dispose();
}

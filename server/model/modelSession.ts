import { stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, dirname } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderSetting, ModelCapabilities, ModelInfo } from '../../common/protocol';
import type { BackendCache, ForwardOptions, ForwardResult as BackendForwardResult, ModelBackend } from './backend';
import { checkWeightsAtLoad, sha256File, type WeightsVerdict } from './weightsCheck';
import { ModelLoadError } from './errors';
import { checkGraphSignature, checkProbeDims } from './graphCheck';
import { createSession, firstLine } from './onnxSession';
import { emptyCacheDims, kvLayers, layerName, parseManifest, type MoeManifest } from './manifest';
import { confinedFile, readModelText } from './modelFiles';
import { checkRoutingOutputs } from './outputCheck';
import { disableDependencyTelemetry } from './telemetry';
import { MoeTokenizer } from './tokenizer';
import { checkTokenizerFits } from './tokenizerCheck';

// Before any session exists: onnxruntime reads ORT_DISABLE_TELEMETRY when it creates its environment.
disableDependencyTelemetry();

/** Key/value tensors of the tokens seen so far, as the graph returned them; pass back as `past` to continue. */
export interface KvCache extends BackendCache {
  readonly tensors: ort.Tensor[]; // [key0, value0, key1, value1, ...], each [1, H, prefix + length, Dh]
  readonly length: number;
  /** positions before the first token that the caller never sees (the BOS token of an addBos model) */
  readonly prefix?: number;
}

/** One forward pass (server/model/backend.ts); `present` is this backend's KvCache. */
export interface ForwardResult extends BackendForwardResult {
  present: KvCache;
}

/** A loaded, validated model directory: manifest, tokenizer and an onnxruntime session. Load once, reuse. */
export class ModelSession implements ModelBackend {
  readonly kind = 'onnx' as const;
  readonly info: ModelInfo;
  readonly capabilities: ModelCapabilities;
  private readonly sha: string;
  /** the BOS token id put before every sequence when moe.json says addBos (as Hugging Face's tokenizer does) */
  private readonly bos: number | undefined;

  private constructor(
    readonly dir: string,
    readonly manifest: MoeManifest,
    readonly tokenizer: MoeTokenizer,
    private readonly session: ort.InferenceSession,
    provider: string,
    sha: string,
  ) {
    this.sha = sha;
    this.bos = manifest.addBos ? tokenizer.tokenId(manifest.specialTokens?.bos ?? '') : undefined;
    this.info = {
      name: manifest.name,
      layers: manifest.layers,
      experts: manifest.experts,
      topK: manifest.topK,
      executionProvider: provider,
      contextLength: manifest.contextLength,
      vocabSize: manifest.vocabSize,
      ...(manifest.quantization ? { weights: `int${manifest.quantization.bits}` } : {}),
    };
    // Everything the graph contract (moe.json) guarantees; token log-probs are an optional output.
    this.capabilities = {
      forward: true,
      kvCache: true,
      tokenLogprobs: true,
      routerLogits: true,
      gateWeights: true,
      steering: ['disable', 'force', 'bias'],
    };
  }

  get source(): string {
    return this.dir;
  }

  /** A stable identity for caches (labels, results): the sha256 of the ONNX file that was loaded (and of its weights file). */
  get modelId(): string {
    return this.sha;
  }

  /** Every output of the graph (fetching a subset leaves the rest unread). */
  private get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** The KV cache outputs (present key and value of every layer). */
  private get cacheOutputs(): ReadonlySet<string> {
    const kv = this.manifest.kvCache;
    return new Set(Array.from({ length: kvLayers(this.manifest) }, (_, l) => [layerName(kv.presentKey, l), layerName(kv.presentValue, l)]).flat());
  }

  /**
   * Loads and validates a model directory: moe.json against the schema, the tokenizer against vocabSize, the ONNX
   * graph's tensor names, types and shapes against the manifest (plus a one-token probe run for the dimensions only a
   * run reveals), and the file's sha256 against provenance.sha256. Every failure is a ModelLoadError naming the file.
   */
  static async load(dir: string, provider: ExecutionProviderSetting = 'auto'): Promise<ModelSession> {
    if (!(await stat(dir).then((st) => st.isDirectory(), () => false))) throw new ModelLoadError('model directory does not exist', dir);
    // Every file is confined to the directory (realpath inside it, a regular file, a size cap per kind): see modelFiles.ts.
    const manifest = parseManifest(await readModelText(dir, 'moe.json', 'manifest'));
    const tokenizer = await loadTokenizer(dir, manifest);
    const onnxFile = manifest.model ?? 'model.onnx';
    const graph = await checkModelFiles(dir, manifest, onnxFile);
    const { sha, id } = await modelIdentity(dir, manifest, graph, onnxFile);
    const { session, used } = await createSession(graph, provider, onnxFile, manifest.quantization?.prePacking === true);
    try {
      checkGraphSignature(session, manifest, onnxFile);
      const declared = manifest.provenance.sha256;
      if (declared && declared !== sha) {
        throw new ModelLoadError(`its sha256 is ${sha} but moe.json provenance.sha256 says ${declared}: the manifest describes a different export`, onnxFile, '/provenance/sha256');
      }
      const loaded = new ModelSession(dir, manifest, tokenizer, session, used, id);
      await probe(loaded, manifest, onnxFile);
      return loaded;
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  /**
   * Runs the graph on `ids` (continuing `past` when given) with the steering bias [L*E]. Batch size is always 1.
   * `logits: false` leaves the [T, V] logits in the graph when it outputs token log-probabilities (routing analysis
   * needs only those: copying the logits out and a log-sum-exp over the vocabulary per token in JS cost as much as
   * the forward itself); a graph without that output always returns the logits. `cache: false` leaves the KV cache
   * in the graph too (`present` is then empty).
   */
  async forward(ids: readonly number[], bias: Float32Array, past?: KvCache, want: ForwardOptions = {}): Promise<ForwardResult> {
    const m = this.manifest;
    const T = ids.length;
    if (T === 0) throw new RangeError('forward needs at least one token');
    if (bias.length !== m.layers * m.experts) throw new RangeError(`expert_bias has ${bias.length} values, expected ${m.layers}·${m.experts}`);
    // An addBos model starts every sequence with BOS: it is run as position 0 and its outputs are dropped, so callers
    // see only their tokens (and the first token gets a real log-probability, p(token | BOS)).
    const drop = past === undefined && this.bos !== undefined ? 1 : 0;
    const prefix = past?.prefix ?? drop;
    const runIds = drop ? [this.bos!, ...ids] : ids;
    const feeds: Record<string, ort.Tensor> = {
      [m.inputs.inputIds]: new ort.Tensor('int64', BigInt64Array.from(runIds, (x) => BigInt(x)), [1, T + drop]),
      [m.inputs.expertBias]: new ort.Tensor('float32', bias, [m.layers, m.experts]),
    };
    const kv = m.kvCache;
    // No history: empty [1, H, 0, D] tensors (manifest.ts emptyCacheDims)
    const emptyDims = emptyCacheDims(m);
    for (let l = 0; l < kvLayers(m); l++) {
      feeds[layerName(kv.pastKey, l)] = past?.tensors[2 * l] ?? new ort.Tensor('float32', new Float32Array(0), emptyDims.key);
      feeds[layerName(kv.pastValue, l)] = past?.tensors[2 * l + 1] ?? new ort.Tensor('float32', new Float32Array(0), emptyDims.value);
    }
    const skipLogits = want.logits === false && m.outputs.tokenLogprobs !== undefined;
    // Without the cache: 2 MiB less copied out per 512-token window of the embedded model (8 KV tensors), which a
    // whole-text pass would drop at once (the labels' pass at load runs five documents' worth of them).
    const skipCache = want.cache === false;
    const skipped = (n: string) => (skipLogits && n === m.outputs.logits) || (skipCache && this.cacheOutputs.has(n));
    const out = skipLogits || skipCache ? await this.session.run(feeds, this.outputNames.filter((n) => !skipped(n))) : await this.session.run(feeds);
    const ids64 = dropRows(out[m.outputs.expertIds].data as BigInt64Array, m.layers, T + drop, drop);
    const expertIds = new Int32Array(ids64.length);
    for (let i = 0; i < ids64.length; i++) expertIds[i] = Number(ids64[i]);
    const tensors: ort.Tensor[] = [];
    if (!skipCache) for (let l = 0; l < kvLayers(m); l++) tensors.push(out[layerName(kv.presentKey, l)], out[layerName(kv.presentValue, l)]);
    const present: KvCache = skipCache ? { tensors, length: 0 } : { tensors, length: (past?.length ?? 0) + T, ...(prefix ? { prefix } : {}) };
    const dims: Record<string, readonly number[]> = {};
    for (const name of Object.values(m.outputs)) if (out[name]) dims[name] = out[name].dims.map((d, i) => (i === 1 ? d - drop : d));
    const result: ForwardResult = {
      tokens: T,
      dims,
      logits: skipLogits ? new Float32Array(0) : dropRows(out[m.outputs.logits].data as Float32Array, 1, T + drop, drop),
      tokenLogprobs: m.outputs.tokenLogprobs !== undefined ? dropRows(out[m.outputs.tokenLogprobs].data as Float32Array, 1, T + drop, drop) : undefined,
      routerLogits: dropRows(out[m.outputs.routerLogits].data as Float32Array, m.layers, T + drop, drop),
      routerEntropy: m.outputs.routerEntropy !== undefined ? dropRows(out[m.outputs.routerEntropy].data as Float32Array, m.layers, T + drop, drop) : undefined,
      expertIds,
      expertWeights: dropRows(out[m.outputs.expertWeights].data as Float32Array, m.layers, T + drop, drop),
      present,
      ...(drop && m.outputs.tokenLogprobs !== undefined ? { firstScored: true } : {}),
    };
    // Every run, not only the load probe: a model may break only on some inputs (ModelLoadError naming the graph).
    checkRoutingOutputs(result, m.experts, m.outputs, m.model ?? 'model.onnx');
    return result;
  }

  /** The first `length` positions of a cache (to continue after an edit that kept that prefix). */
  static truncateCache(cache: KvCache, length: number): KvCache {
    if (length >= cache.length) return cache;
    const keep = length + (cache.prefix ?? 0);
    const tensors = cache.tensors.map((t) => {
      const [b, h, s, d] = t.dims as number[];
      const src = t.data as Float32Array;
      const dst = new Float32Array(b * h * keep * d);
      for (let i = 0; i < b * h; i++) dst.set(src.subarray(i * s * d, i * s * d + keep * d), i * keep * d);
      return new ort.Tensor('float32', dst, [b, h, keep, d]);
    });
    return { tensors, length, ...(cache.prefix ? { prefix: cache.prefix } : {}) };
  }

  truncateCache(cache: KvCache, length: number): KvCache {
    return ModelSession.truncateCache(cache, length);
  }

  cacheBytes(cache: KvCache): number {
    let n = 0;
    for (const t of cache.tensors) n += (t.data as Float32Array).byteLength;
    return n;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Drops the first `drop` of `positions` positions in each of `blocks` blocks laid out [blocks, positions, ...]. */
function dropRows<A extends Float32Array | BigInt64Array>(data: A, blocks: number, positions: number, drop: number): A {
  if (drop === 0) return data;
  const row = data.length / blocks / positions;
  if (blocks === 1) return data.subarray(drop * row) as A;
  const out = new (data.constructor as new (n: number) => A)(blocks * (positions - drop) * row);
  // eslint-disable-next-line no-restricted-syntax -- KV cache rows [blocks, positions, row], not routing arrays
  for (let b = 0; b < blocks; b++) out.set(data.subarray((b * positions + drop) * row, (b + 1) * positions * row) as never, b * (positions - drop) * row);
  return out;
}

/** The tokenizer the manifest names, checked against the model's vocabulary and BOS token. */
async function loadTokenizer(dir: string, manifest: MoeManifest): Promise<MoeTokenizer> {
  const tok = await confinedFile(dir, manifest.tokenizer, 'tokenizer', '/tokenizer');
  const tokenizer = await MoeTokenizer.fromFile(tok.path, manifest.tokenizer);
  checkTokenizerFits(tokenizer, manifest); // vocabulary within vocabSize, the BOS token known (tokenizerCheck.ts)
  return tokenizer;
}

/** A file that may be absent, but when present must pass the confinement rules. */
const optionalFile = (p: Promise<unknown>) =>
  p.catch((e: ModelLoadError) => {
    if (!/file is missing/.test(e.message)) throw e;
  });

/** Confines the profile corpus (read later, for labels: a bad entry fails the load now), the graph and its data; the graph's path. */
async function checkModelFiles(dir: string, manifest: MoeManifest, onnxFile: string): Promise<string> {
  for (const [domain, file] of Object.entries(manifest.profileCorpus?.domains ?? {})) await optionalFile(confinedFile(dir, file, 'corpus', `/profileCorpus/domains/${domain}`));
  const graph = await confinedFile(dir, onnxFile, 'graph', '/model');
  // Weights stored beside the graph (ONNX external data, "<model>.data") are read by onnxruntime from the graph's
  // folder: when present, that file too must be a regular file inside the directory.
  await optionalFile(confinedFile(dirname(graph.path), `${basename(graph.path)}.data`, 'graphData'));
  return graph.path;
}

/**
 * The graph's sha256 and the model's identity (graph and, for an imported model, its external weights' checked
 * sha256). Hashed as streams, the bytes dropped: onnxruntime reads the files itself, so the
 * server keeps no second copy of the weights in a JS buffer.
 */
async function modelIdentity(dir: string, manifest: MoeManifest, graph: string, onnxFile: string): Promise<{ sha: string; id: string }> {
  const sha = await hashFile(graph, onnxFile);
  if (manifest.modelData === undefined) return { sha, id: sha };
  // An imported model keeps its weights in an external-data file (it can be many GB): checked against provenance by
  // size, mtime and sampled chunks, or hashed in full when those say it changed (weightsCheck.ts).
  const data = await confinedFile(dir, manifest.modelData, 'graphData', '/modelData');
  let verdict: WeightsVerdict;
  try {
    verdict = await checkWeightsAtLoad(data.path, manifest.modelData, manifest.provenance.dataSha256, manifest.provenance.dataCheck);
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    throw new ModelLoadError(unreadable(e), manifest.modelData);
  }
  return { sha, id: createHash('sha256').update(`${sha} ${verdict.sha256}`).digest('hex') };
}

/** A one-token run: its outputs are checked (outputCheck.ts, a ModelLoadError naming the graph) and their shapes. */
async function probe(loaded: ModelSession, manifest: MoeManifest, onnxFile: string): Promise<void> {
  let out: ForwardResult;
  try {
    out = await loaded.forward([0], new Float32Array(manifest.layers * manifest.experts));
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    throw new ModelLoadError(`a one-token test run failed (${firstLine(e)})`, onnxFile);
  }
  checkProbeDims(out.dims, manifest, onnxFile);
}

async function hashFile(path: string, name: string): Promise<string> {
  try {
    return await sha256File(path);
  } catch (e) {
    throw new ModelLoadError(unreadable(e), name);
  }
}


const unreadable = (e: unknown): string => {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'file is missing' : `cannot be read (${code ?? firstLine(e)})`;
};


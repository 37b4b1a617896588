import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderSetting, ModelInfo } from '../../common/protocol';
import { ModelLoadError } from './errors';
import { layerName, parseManifest, type MoeManifest } from './manifest';
import { MoeTokenizer } from './tokenizer';

/** Key/value tensors of the tokens seen so far, as the graph returned them; pass back as `past` to continue. */
export interface KvCache {
  readonly tensors: ort.Tensor[]; // [key0, value0, key1, value1, ...], each [1, H, length, Dh]
  readonly length: number;
}

/** One forward pass, layer-major as the graph gives it: routerLogits[(l*T+t)*E+e], expertIds[(l*T+t)*K+k]. */
export interface ForwardResult {
  tokens: number;
  logits: Float32Array; // [T*V]
  routerLogits: Float32Array; // [L*T*E], raw (before expert_bias)
  expertIds: Int32Array; // [L*T*K]
  expertWeights: Float32Array; // [L*T*K]
  present?: KvCache;
}

/** Which onnxruntime execution providers to try for a setting, best first. CPU is always bundled. */
function providerOrder(setting: ExecutionProviderSetting): string[] {
  switch (setting) {
    case 'cpu':
      return ['cpu'];
    case 'cuda':
      return ['cuda'];
    case 'webgpu':
      return ['webgpu'];
    default:
      // CUDA only when its provider library was installed (ONNXRUNTIME_NODE_INSTALL=cuda12); WebGPU only on request,
      // since on a machine without a Vulkan driver it fails slowly.
      return cudaInstalled() ? ['cuda', 'cpu'] : ['cpu'];
  }
}

function cudaInstalled(): boolean {
  const backend = ort.listSupportedBackends?.().find((b) => b.name === 'cuda');
  if (!backend) return false;
  try {
    const dir = join(require.resolve('onnxruntime-node'), '..', '..', 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(join(dir, 'libonnxruntime_providers_cuda.so')) || existsSync(join(dir, 'onnxruntime_providers_cuda.dll'));
  } catch {
    return false;
  }
}

/** A loaded, validated model directory: manifest, tokenizer and an onnxruntime session. Load once, reuse. */
export class ModelSession {
  readonly info: ModelInfo;
  private readonly sha: string;

  private constructor(
    readonly dir: string,
    readonly manifest: MoeManifest,
    readonly tokenizer: MoeTokenizer,
    private readonly session: ort.InferenceSession,
    provider: string,
    sha: string,
  ) {
    this.sha = sha;
    this.info = {
      name: manifest.name,
      layers: manifest.layers,
      experts: manifest.experts,
      topK: manifest.topK,
      executionProvider: provider,
      contextLength: manifest.contextLength,
      vocabSize: manifest.vocabSize,
    };
  }

  /** A stable identity for caches (labels, results): the ONNX file's hash from the manifest, else its size and mtime. */
  get modelId(): string {
    return this.sha;
  }

  static async load(dir: string, provider: ExecutionProviderSetting = 'auto'): Promise<ModelSession> {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelLoadError('model directory does not exist', dir);
    const manifestPath = join(dir, 'moe.json');
    let text: string;
    try {
      text = await readFile(manifestPath, 'utf8');
    } catch {
      throw new ModelLoadError('file is missing', 'moe.json');
    }
    const manifest = parseManifest(text);
    const tokenizer = await MoeTokenizer.fromFile(join(dir, manifest.tokenizer), manifest.tokenizer);
    if (tokenizer.vocabSize !== manifest.vocabSize) {
      throw new ModelLoadError(`tokenizer has ${tokenizer.vocabSize} tokens but moe.json says vocabSize ${manifest.vocabSize}`, manifest.tokenizer, '/model/vocab');
    }
    const onnxFile = manifest.model ?? 'model.onnx';
    const onnxPath = join(dir, onnxFile);
    if (!existsSync(onnxPath)) throw new ModelLoadError('file is missing', onnxFile);
    let session: ort.InferenceSession | undefined;
    let used = '';
    const failures: string[] = [];
    for (const ep of providerOrder(provider)) {
      try {
        session = await ort.InferenceSession.create(onnxPath, { executionProviders: [ep], graphOptimizationLevel: 'all' });
        used = ep;
        break;
      } catch (e) {
        failures.push(`${ep}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    if (!session) {
      const corrupt = failures.some((f) => /protobuf|parse|invalid|load model/i.test(f));
      throw new ModelLoadError(corrupt ? `onnxruntime cannot load it (${failures.join('; ')})` : `no execution provider could run it (${failures.join('; ')})`, onnxFile);
    }
    checkGraph(session, manifest, onnxFile);
    const sha = (manifest.provenance?.sha256 as string | undefined) ?? createHash('sha256').update(`${onnxPath}:${statSync(onnxPath).size}:${statSync(onnxPath).mtimeMs}`).digest('hex');
    return new ModelSession(dir, manifest, tokenizer, session, used, sha);
  }

  /** Runs the graph on `ids` (continuing `past` when given) with the steering bias [L*E]. Batch size is always 1. */
  async forward(ids: number[], bias: Float32Array, past?: KvCache): Promise<ForwardResult> {
    const m = this.manifest;
    const T = ids.length;
    const feeds: Record<string, ort.Tensor> = {
      [m.inputs.inputIds]: new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, T]),
      [m.inputs.expertBias]: new ort.Tensor('float32', bias, [m.layers, m.experts]),
    };
    const kv = m.kvCache;
    if (kv) {
      for (let l = 0; l < m.layers; l++) {
        feeds[layerName(kv.pastKey, l)] = past?.tensors[2 * l] ?? new ort.Tensor('float32', new Float32Array(0), [1, kv.heads, 0, kv.headDim]);
        feeds[layerName(kv.pastValue, l)] = past?.tensors[2 * l + 1] ?? new ort.Tensor('float32', new Float32Array(0), [1, kv.heads, 0, kv.headDim]);
      }
    }
    const out = await this.session.run(feeds);
    const ids64 = out[m.outputs.expertIds].data as BigInt64Array;
    const expertIds = new Int32Array(ids64.length);
    for (let i = 0; i < ids64.length; i++) expertIds[i] = Number(ids64[i]);
    let present: KvCache | undefined;
    if (kv) {
      const tensors: ort.Tensor[] = [];
      for (let l = 0; l < m.layers; l++) tensors.push(out[layerName(kv.presentKey, l)], out[layerName(kv.presentValue, l)]);
      present = { tensors, length: (past?.length ?? 0) + T };
    }
    return {
      tokens: T,
      logits: out[m.outputs.logits].data as Float32Array,
      routerLogits: out[m.outputs.routerLogits].data as Float32Array,
      expertIds,
      expertWeights: out[m.outputs.expertWeights].data as Float32Array,
      present,
    };
  }

  /** The first `length` positions of a cache (to continue after an edit that kept that prefix). */
  static truncateCache(cache: KvCache, length: number): KvCache {
    if (length >= cache.length) return cache;
    const tensors = cache.tensors.map((t) => {
      const [b, h, s, d] = t.dims as number[];
      const src = t.data as Float32Array;
      const dst = new Float32Array(b * h * length * d);
      for (let i = 0; i < b * h; i++) dst.set(src.subarray(i * s * d, i * s * d + length * d), i * length * d);
      return new ort.Tensor('float32', dst, [b, h, length, d]);
    });
    return { tensors, length };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** The graph must have every tensor the manifest names, with the shapes it declares where the graph says them. */
function checkGraph(session: ort.InferenceSession, m: MoeManifest, file: string): void {
  const inputs = new Set(session.inputNames);
  const outputs = new Set(session.outputNames);
  const need = (set: Set<string>, name: string, field: string, kind: string) => {
    if (!set.has(name)) throw new ModelLoadError(`graph has no ${kind} "${name}" (it has: ${[...set].join(', ')})`, file, field);
  };
  need(inputs, m.inputs.inputIds, '/inputs/inputIds', 'input');
  need(inputs, m.inputs.expertBias, '/inputs/expertBias', 'input');
  for (const [k, v] of Object.entries(m.outputs)) need(outputs, v, `/outputs/${k}`, 'output');
  if (m.kvCache) {
    for (let l = 0; l < m.layers; l++) {
      need(inputs, layerName(m.kvCache.pastKey, l), '/kvCache/pastKey', 'input');
      need(inputs, layerName(m.kvCache.pastValue, l), '/kvCache/pastValue', 'input');
      need(outputs, layerName(m.kvCache.presentKey, l), '/kvCache/presentKey', 'output');
      need(outputs, layerName(m.kvCache.presentValue, l), '/kvCache/presentValue', 'output');
    }
  }
  const meta = (session as unknown as { inputMetadata?: readonly ort.InferenceSession.ValueMetadata[] }).inputMetadata;
  const bias = meta?.find((x) => x.name === m.inputs.expertBias);
  if (bias && bias.isTensor && bias.shape.length) {
    const [l, e] = bias.shape;
    if (bias.shape.length !== 2 || (typeof l === 'number' && l !== m.layers) || (typeof e === 'number' && e !== m.experts)) {
      throw new ModelLoadError(`graph input "${m.inputs.expertBias}" has shape [${bias.shape.join(', ')}] but moe.json says [${m.layers}, ${m.experts}] (layers, experts)`, file, '/inputs/expertBias');
    }
  }
}

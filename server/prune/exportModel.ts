// Writes a model directory with fewer experts per layer (docs/PRUNING.md): the importer-layout graph with its expert
// weights fc1/fc2 and its router Gemm cut to the kept experts (or, for merging, each kept expert's weights replaced by
// a weighted average of its group), expert_bias [L, E'] and moe.json's expert count to match. Written into a
// temporary sibling and renamed into place at the end, as `moe-lens import` does, so a killed export leaves no
// half-written model; the destination must not exist.
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { onnx } from 'onnx-proto';
import { DataFile } from '../import/graph/builder';
import { SOURCE_CONFIG } from '../import/importCheckpoint';
import type { MoeManifest } from '../model/manifest';
import { elementBytes, PruneError, tensorBytes, type MoeGraph } from './moeGraph';

/** One expert of the new model: its weights Σ coef·W[src] (one term with coef 1 for plain pruning), its router row. */
export interface NewExpert {
  mix: [number, number][];
  router: number;
}

/** Per router layer, the experts of the new model in order (the same count in every layer). */
export type ExpertPlan = NewExpert[][];

export const planFromKept = (kept: readonly (readonly number[])[]): ExpertPlan => kept.map((row) => row.map((e) => ({ mix: [[e, 1]], router: e })));

/** Rows of a [E, …] tensor combined per the plan's new experts. */
function combineRows(bytes: Uint8Array, t: onnx.ITensorProto, experts: NewExpert[], pick: (x: NewExpert) => [number, number][]): Uint8Array {
  const E = Number(t.dims![0]);
  const rowBytes = bytes.byteLength / E;
  const out = new Uint8Array(rowBytes * experts.length);
  experts.forEach((x, j) => {
    const mix = pick(x);
    if (mix.length === 1 && mix[0][1] === 1) {
      out.set(bytes.subarray(mix[0][0] * rowBytes, (mix[0][0] + 1) * rowBytes), j * rowBytes);
      return;
    }
    if (elementBytes(t) !== 4) throw new PruneError(`merging needs float32 weights; ${t.name} is float16`);
    const src = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const n = rowBytes / 4;
    const acc = new Float32Array(n);
    for (const [e, c] of mix) for (let i = 0; i < n; i++) acc[i] += c * src[e * n + i];
    out.set(new Uint8Array(acc.buffer), j * rowBytes);
  });
  return out;
}

/** Routers that choose within equal expert groups (moe.json router.function, families/routerDescription.ts). */
const GROUPED_ROUTERS = ['sigmoid-topk', 'group-limited-softmax-topk'];

export interface ExportInfo {
  /** what was done, for provenance: e.g. "pruned by reap to 8 of 16 experts per layer" */
  method: string;
}

/** Writes the reduced model into `out` (which must not exist). Returns its manifest. */
export function exportReduced(g: MoeGraph, plan: ExpertPlan, out: string, info: ExportInfo): MoeManifest {
  if (existsSync(out)) throw new PruneError(`${out} already exists: choose a new folder (nothing was written)`);
  const m = g.manifest;
  // GLM-4.5's and DeepSeek-V3's router (sigmoid-topk) chooses within equal expert groups, with a correction bias per
  // expert (a constant of the graph), DeepSeek-V2's within groups too: removing experts from the router and weights
  // would break the groups, so it is refused, not cut wrong
  if (GROUPED_ROUTERS.includes(m.router.function)) throw new PruneError(`${g.dir}: its router (${m.router.function}: equal expert groups${m.router.function === 'sigmoid-topk' ? ' and a correction bias per expert' : ''}) cannot be exported with experts removed yet; disable them by steering instead (nothing was written)`);
  const E2 = plan[0].length;
  if (plan.length !== m.layers || plan.some((p) => p.length !== E2)) throw new PruneError('the plan must keep the same number of experts in every layer');
  if (E2 < m.topK) throw new PruneError(`a model needs at least topK = ${m.topK} experts per layer, not ${E2}`);
  const model = onnx.ModelProto.decode(onnx.ModelProto.encode(g.model).finish());
  const graph = model.graph!;
  const reshape = new Map<string, { experts: NewExpert[]; pick: (x: NewExpert) => [number, number][] }>();
  g.layers.forEach((layer, l) => {
    const weights = (x: NewExpert) => x.mix;
    const router = (x: NewExpert): [number, number][] => [[x.router, 1]];
    reshape.set(layer.fc1, { experts: plan[l], pick: weights });
    reshape.set(layer.fc2, { experts: plan[l], pick: weights });
    reshape.set(layer.router, { experts: plan[l], pick: router });
    if (layer.routerBias) reshape.set(layer.routerBias, { experts: plan[l], pick: router });
  });
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const dataName = 'model.onnx.data';
    const data = new DataFile(join(tmp, dataName), dataName);
    let dataSha: string;
    try {
      graph.initializer = graph.initializer!.map((t) => {
        const r = reshape.get(t.name!);
        const external = t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
        if (!r && !external) return t;
        let bytes = tensorBytes(g.dir, t);
        const dims = t.dims!.map(Number);
        if (r) {
          bytes = combineRows(bytes, t, r.experts, r.pick);
          dims[0] = r.experts.length;
        }
        const { offset, length } = data.append(bytes);
        return { name: t.name, dims, dataType: t.dataType, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: dataName }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(length) }] };
      });
    } finally {
      dataSha = data.close();
    }
    const setExperts = (v: onnx.IValueInfoProto, axis: number) => {
      const dim = v.type?.tensorType?.shape?.dim;
      if (dim?.[axis]) dim[axis] = { dimValue: E2 };
    };
    for (const v of graph.input!) if (v.name === m.inputs.expertBias) setExperts(v, 1);
    for (const v of graph.output!) if (v.name === m.outputs.routerLogits) setExperts(v, 2);
    model.docString = `${model.docString ?? ''} · ${info.method}`;
    const bytes = onnx.ModelProto.encode(model).finish();
    writeFileSync(join(tmp, 'model.onnx'), bytes);
    copyFileSync(join(g.dir, m.tokenizer), join(tmp, 'tokenizer.json'));
    if (existsSync(join(g.dir, SOURCE_CONFIG))) copyFileSync(join(g.dir, SOURCE_CONFIG), join(tmp, SOURCE_CONFIG));
    const { profileCorpus: _drop, ...rest } = m;
    void _drop;
    const manifest: MoeManifest = {
      ...rest,
      name: `${m.name}-${E2}e`,
      experts: E2,
      model: 'model.onnx',
      modelData: dataName,
      tokenizer: 'tokenizer.json',
      provenance: {
        ...m.provenance,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        dataSha256: dataSha,
        // the source's size/mtime/sampled-chunk record describes its own data file, not this one: without it the
        // first load hashes the (smaller) exported data in full (server/model/weightsCheck.ts)
        dataCheck: undefined,
        reducedFrom: { name: m.name, sha256: m.provenance.sha256, experts: m.experts, method: info.method, kept: plan.map((p) => p.map((x) => x.router)) },
      },
    };
    writeFileSync(join(tmp, 'moe.json'), `${JSON.stringify(manifest, null, 1)}\n`);
    mkdirSync(dirname(out), { recursive: true });
    renameSync(tmp, out);
    return manifest;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}


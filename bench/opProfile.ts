// Where the full graph's extra time goes: onnxruntime's own profiler (per-node kernel times) on the full graph and on
// its bare rewrite, same input. The bare graph is a pruned copy with the same node names, so the nodes only the full
// graph runs are the cost of its extra outputs; kernel times are less exposed to other processes than wall time.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

export interface OpProfile {
  tokens: number;
  runs: number;
  /** summed kernel time per run (ms) */
  fullKernelMs: number;
  bareKernelMs: number;
  /** kernel time per run of the nodes only the full graph has, by op type (ms), largest first */
  extraByOp: [string, number][];
  extraMs: number;
}

interface Event { cat: string; name: string; dur: number; args?: { op_name?: string } }

async function kernelTimes(path: string, feeds: Record<string, ort.Tensor>, fetch: string[] | undefined, runs: number, prefix: string, options: ort.InferenceSession.SessionOptions): Promise<Map<string, { op: string; us: number }>> {
  const s = await ort.InferenceSession.create(path, { ...options, enableProfiling: true, profileFilePrefix: prefix });
  try {
    await (fetch ? s.run(feeds, fetch) : s.run(feeds)); // warm-up, not counted below
    for (let i = 0; i < runs; i++) await (fetch ? s.run(feeds, fetch) : s.run(feeds));
    s.endProfiling();
  } finally {
    await s.release();
  }
  const dir = join(prefix, '..');
  const base = prefix.slice(dir.length + 1);
  const file = readdirSync(dir).filter((f) => f.startsWith(base) && f.endsWith('.json')).sort().pop();
  if (!file) throw new Error(`onnxruntime wrote no profile for ${prefix}`);
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Event[];
  rmSync(join(dir, file));
  const nodes = new Map<string, { op: string; us: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    const n = nodes.get(name) ?? { op: e.args?.op_name ?? '?', us: 0 };
    n.us += e.dur / (runs + 1);
    nodes.set(name, n);
  }
  return nodes;
}

export async function profileExtra(full: string, bare: string, feeds: Record<string, ort.Tensor>, bareFeeds: Record<string, ort.Tensor>, fetch: string[], tokens: number, cache: string, options: ort.InferenceSession.SessionOptions, runs = 2): Promise<OpProfile> {
  const f = await kernelTimes(full, feeds, fetch, runs, join(cache, 'profile-full'), options);
  const b = await kernelTimes(bare, bareFeeds, undefined, runs, join(cache, 'profile-bare'), options);
  const sum = (m: Map<string, { us: number }>) => [...m.values()].reduce((a, x) => a + x.us, 0) / 1000;
  const extra = new Map<string, number>();
  for (const [name, n] of f) if (!b.has(name)) extra.set(n.op, (extra.get(n.op) ?? 0) + n.us / 1000);
  const extraByOp = [...extra].sort((x, y) => y[1] - x[1]);
  return { tokens, runs, fullKernelMs: sum(f), bareKernelMs: sum(b), extraByOp, extraMs: extraByOp.reduce((a, [, ms]) => a + ms, 0) };
}

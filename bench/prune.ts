// The pruning pipeline on 1 MB of text through the embedded model (issue goal: importance under a minute on the
// project's 2-core machine): the profiling pass (frequency, weight, REAP norms, router Gram, expert sequences),
// importance scores and the offloading simulation, before (test/support/profileReference.ts and offloadReference.ts:
// every rank of the top-k in an MoE op of its own, the whole graph, one session, per-token JS loops, one LRU
// simulation per cache size) and after (server/prune: the graph cut to routing, rank 0's norm from the layer's
// output, windows on worker threads; common/offloadSim.ts), interleaved A B (B A …) in one process so that the
// machine's load hits both; then a pruning curve on a held-out text. Writes bench/prune-results.json.
//   node bench/prune-run.mjs [--bytes 1000000] [--rounds 1] [--draws 1] [--no-curve]
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { importanceScores } from '../common/expertImportance';
import { offloadLayers } from '../common/offloadSim';
import { profileCorpus, type CorpusProfile } from '../server/prune/corpusProfile';
import { expertBytes, readMoeGraph, type MoeGraph } from '../server/prune/moeGraph';
import { profilingGraph } from '../server/prune/profile';
import { workerPlan } from '../server/prune/profileWorkers';
import { pruneCurve } from '../server/prune/pruneCurve';
import { referenceOffloadLayers } from '../test/support/offloadReference';
import { referenceProfileCorpus } from '../test/support/profileReference';

const argv = process.argv.slice(2);
const opt = (f: string) => {
  const i = argv.indexOf(f);
  return i >= 0 ? argv[i + 1] : undefined;
};
const BYTES = Number(opt('--bytes') ?? 1_000_000);
const ROUNDS = Number(opt('--rounds') ?? 1);
const DRAWS = Number(opt('--draws') ?? 1);
const root = process.cwd();
const modelDir = join(root, 'media', 'model');
const CRITERIA = ['frequency', 'weight', 'reap'] as const;

interface Pass {
  /** after: the profile itself, for the curve */
  profile?: CorpusProfile;
  ms: number;
  cpuMs: number;
  profileMs: number;
  tokens: number;
  scores: number[][][];
  srp: number[];
  sch: number[];
}

/** One side: profile, score every criterion, simulate offloading; wall and process CPU time (all threads). */
async function pass(g: MoeGraph, texts: string[], side: 'before' | 'after'): Promise<Pass> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const m = g.manifest;
  const bytes = expertBytes(g);
  let r: { counts: Parameters<typeof importanceScores>[0]; off: ReturnType<typeof offloadLayers>; profile?: CorpusProfile };
  let profileMs: number;
  if (side === 'before') {
    const p = await referenceProfileCorpus(g, texts, 1_000_000);
    profileMs = performance.now() - t0;
    r = { counts: p.counts, off: referenceOffloadLayers(p.sequences, m, 16, 2 * m.topK, bytes) };
  } else {
    const p = await profileCorpus(g, texts, { maxTokens: 1_000_000, keepSequences: true });
    profileMs = performance.now() - t0;
    r = { counts: p.counts, off: offloadLayers(p.sequences!, m, 16, 2 * m.topK, bytes), profile: p };
  }
  const scores = CRITERIA.map((c) => importanceScores(r.counts, c));
  const cpu = process.cpuUsage(c0);
  return { profile: r.profile, ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, profileMs, tokens: r.counts.tokens, scores, srp: r.off.map((l) => l.srp), sch: r.off.map((l) => l.sch) };
}

const maxRel = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, l) => row.map((x, e) => Math.abs(x - b[l][e]) / Math.max(Math.abs(x), 1e-30))));
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

async function main() {
  const m = JSON.parse(readFileSync(join(modelDir, 'moe.json'), 'utf8')) as { profileCorpus: { domains: Record<string, string> } };
  const profile = Object.values(m.profileCorpus.domains).map((f) => readFileSync(join(modelDir, f), 'utf8'));
  // 1 MB of text: the profile corpus repeated, one text per 100 kB (as a folder of files would be)
  const all = profile.join('\n');
  const texts: string[] = [];
  let size = 0;
  while (size < BYTES) {
    let t = '';
    while (t.length < 100_000 && size + t.length < BYTES) t += all;
    t = t.slice(0, Math.min(100_000, BYTES - size));
    texts.push(t);
    size += t.length;
  }
  const g = readMoeGraph(modelDir);
  const loadStart = loadavg();
  const runs: { before: Pass[]; after: Pass[] } = { before: [], after: [] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const side of i % 2 ? (['after', 'before'] as const) : (['before', 'after'] as const)) {
      const p = await pass(g, texts, side);
      runs[side].push(p);
      console.error(`round ${i + 1} ${side}: ${round(p.ms / 1000, 1)} s (profiling ${round(p.profileMs / 1000, 1)} s, CPU ${round(p.cpuMs / 1000, 1)} s), load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    }
  }
  const [a, b] = [runs.before[0], runs.after[0]];
  const held = profile.map((t) => t.slice(Math.floor(t.length / 2)));
  let curve: { evalTokens: number; draws: number; ms: number; threshold: number } | undefined;
  if (!argv.includes('--no-curve')) {
    const t3 = performance.now();
    const c = await pruneCurve(g, b.profile!, held, { criterion: 'reap', draws: DRAWS, maxTokens: 4096 });
    curve = { evalTokens: c.evalTokens, draws: DRAWS, ms: Math.round(performance.now() - t3), threshold: c.threshold };
  }
  const side = (p: Pass[]) => ({ ms: p.map((x) => Math.round(x.ms)), profileMs: p.map((x) => Math.round(x.profileMs)), cpuMs: p.map((x) => Math.round(x.cpuMs)) });
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, loadavgStart: loadStart, loadavgEnd: loadavg() },
    bytes: size,
    tokens: b.tokens,
    rounds: ROUNDS,
    workers: workerPlan(profilingGraph(g).byteLength),
    before: side(runs.before),
    after: side(runs.after),
    // per round: before / after, so that a burst of load from other processes hits both sides of each
    speedup: round(median(runs.before.map((x, i) => x.ms / runs.after[i].ms)), 2),
    cpuRatio: round(median(runs.before.map((x, i) => x.cpuMs / runs.after[i].cpuMs)), 2),
    tokensPerSecondAfter: Math.round(b.tokens / (median(runs.after.map((x) => x.profileMs)) / 1000)),
    importanceGoalMet: median(runs.after.map((x) => x.ms)) < 60_000,
    // the results of both sides: frequency and weight to the bit, REAP within float rounding, the offloading numbers
    maxRelativeDifference: Object.fromEntries(CRITERIA.map((c, i) => [c, maxRel(a.scores[i], b.scores[i])])),
    offloadingEqual: JSON.stringify([a.srp, a.sch]) === JSON.stringify([b.srp, b.sch]),
    curve,
    srp: b.srp.map((x) => round(x, 3)),
    sch: b.sch.map((x) => round(x, 3)),
  };
  writeFileSync(join(root, 'bench', 'prune-results.json'), `${JSON.stringify(result, null, 1)}\n`);
  console.log(JSON.stringify(result, null, 1));
}
void main();

// The pruning pipeline on 1 MB of text through the embedded model (issue goal: under a minute on the project's
// 2-core machine): the profiling pass (frequency, weight, REAP norms, router Gram, expert sequences), importance
// scores, the offloading simulation, and a pruning curve on a held-out text. Writes bench/prune-results.json.
//   node bench/prune-run.mjs [--bytes 1000000] [--draws 3]
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { importanceScores } from '../common/expertImportance';
import { offloadLayers } from '../common/offloadSim';
import { profileCorpus } from '../server/prune/corpusProfile';
import { expertBytes, readMoeGraph } from '../server/prune/moeGraph';
import { pruneCurve } from '../server/prune/pruneCurve';

const argv = process.argv.slice(2);
const opt = (f: string) => {
  const i = argv.indexOf(f);
  return i >= 0 ? argv[i + 1] : undefined;
};
const BYTES = Number(opt('--bytes') ?? 1_000_000);
const DRAWS = Number(opt('--draws') ?? 3);
const root = process.cwd();
const modelDir = join(root, 'media', 'model');

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
  const t1 = performance.now();
  const p = await profileCorpus(g, texts, { maxTokens: 1_000_000, keepSequences: true });
  const tProfile = performance.now() - t1;
  const t2 = performance.now();
  for (const c of ['frequency', 'weight', 'reap'] as const) importanceScores(p.counts, c);
  const off = offloadLayers(p.sequences!, g.manifest, 16, 2 * g.manifest.topK, expertBytes(g));
  const tOffload = performance.now() - t2;
  const held = profile.map((t) => t.slice(Math.floor(t.length / 2)));
  const t3 = performance.now();
  const curve = await pruneCurve(g, p, held, { criterion: 'reap', draws: DRAWS, maxTokens: 4096 });
  const tCurve = performance.now() - t3;
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, loadavg: loadavg() },
    bytes: size,
    tokens: p.counts.tokens,
    profileMs: Math.round(tProfile),
    tokensPerSecond: Math.round(p.counts.tokens / (tProfile / 1000)),
    importanceAndOffloadMs: Math.round(tOffload),
    curve: { evalTokens: curve.evalTokens, draws: DRAWS, ms: Math.round(tCurve), threshold: curve.threshold },
    importanceGoalMet: tProfile + tOffload < 60_000,
    srp: off.map((l) => +l.srp.toFixed(3)),
    sch: off.map((l) => +l.sch.toFixed(3)),
  };
  writeFileSync(join(root, 'bench', 'prune-results.json'), `${JSON.stringify(result, null, 1)}\n`);
  console.log(JSON.stringify(result, null, 1));
}
void main();

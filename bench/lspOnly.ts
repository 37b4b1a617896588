// `npm run bench -- --lsp-only`: only the "Over LSP" case (bench/lsp.ts), without the in-process, PyTorch and
// imported cases, for looking into the server's first analysis and resident memory without an 18-minute run.
//   --servers A.js,B.js   server bundles to compare (default dist/server.js), e.g. a copy built before a change
//   --models DIR,DIR      model directories ('' or "embedded": the embedded one, which is the default)
//   --reps N              rounds (default 3); each round runs every (server, model) pair once, interleaved, so that
//                         load from other processes on a shared machine hits every pair alike
//   --envs E,E            server environments to compare: "extension" (common/serverEnv.ts, the default), "none"
//                         (the inherited environment alone), or extension plus assignments, e.g. MALLOC_ARENA_MAX=2
//                         (several joined with +)
//   --label-cache         each pair is started twice with one fresh cache folder, as the extension starts it (its
//                         global storage): the first start profiles the expert labels and caches them, the later
//                         start reads them back
// Prints each run and the medians, and writes every run to bench/out/lsp-only.json; nothing into bench/results.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SERVER_PROCESS_ENV } from '../common/serverEnv';
import { ModelSession } from '../server/model/modelSession';
import { hoverBench, type HoverBench } from './lsp';
import { docOf, median } from './measure';

const list = (s: string | undefined, dflt: string[]) => (s === undefined ? dflt : s.split(','));

/** One --envs entry as the variables the server gets beyond the bench's own environment. */
function envOf(spec: string): Record<string, string> {
  if (spec === 'extension') return { ...SERVER_PROCESS_ENV };
  if (spec === 'none') return {};
  return { ...SERVER_PROCESS_ENV, ...Object.fromEntries(spec.split('+').map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)])) };
}

export async function lspOnly(root: string, text: string, opt: (f: string) => string | undefined, flag: (f: string) => boolean, log: (s: string) => void): Promise<void> {
  const servers = list(opt('--servers'), [join(root, 'dist', 'server.js')]).map((s) => resolve(s));
  const models = list(opt('--models'), ['']).map((m) => (m === 'embedded' ? '' : m));
  const reps = Number(opt('--reps') ?? 3);
  const envs = list(opt('--envs'), ['extension']);
  const starts = flag('--label-cache') ? ['first start', 'later start'] : ['no cache folder'];
  // the document is cut with each model's own tokenizer, as the full bench does
  const docs = new Map<string, string>();
  for (const m of models) {
    const s = await ModelSession.load(m || join(root, 'media', 'model'), 'cpu');
    docs.set(m, docOf(s, text, 4088));
    await s.dispose();
  }
  log(`--lsp-only: ${servers.length} server(s) × ${models.length} model(s) × ${starts.length} start(s) × ${reps} rounds; load average ${loadavg()[0].toFixed(2)}`);
  const runs = new Map<string, HoverBench[]>();
  for (let r = 0; r < reps; r++) {
    for (const server of servers) {
      for (const [m, envSpec] of models.flatMap((m) => envs.map((e) => [m, e] as const))) {
        const cacheDir = starts.length > 1 ? mkdtempSync(join(tmpdir(), 'moe-lens-bench-')) : undefined;
        try {
          for (const start of starts) {
            const key = [server.startsWith(root) ? server.slice(root.length + 1) : server, m || 'embedded', ...(envs.length > 1 ? [envSpec] : []), start].join(' | ');
            const h = await hoverBench(server, docs.get(m)!, m, 500, { cacheDir, env: envOf(envSpec) });
            runs.set(key, [...(runs.get(key) ?? []), h]);
            log(`${key}: ${line(h)}`);
          }
        } finally {
          if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
        }
      }
    }
  }
  mkdirSync(join(root, 'bench', 'out'), { recursive: true });
  writeFileSync(join(root, 'bench', 'out', 'lsp-only.json'), `${JSON.stringify({ date: new Date().toISOString(), loadAverage: loadavg()[0], runs: Object.fromEntries(runs) }, null, 1)}\n`);
  console.log(`\nmedians of ${reps} rounds (load average at the end ${loadavg()[0].toFixed(2)}):`);
  console.log(`| server | model |${envs.length > 1 ? ' environment |' : ''} start | tokens | first analysis (ms) | server (ms) | one-token edit, JSON (ms) | packed (ms) | hover p95 (ms) | labels (ms) | RSS loaded (MB) | RSS after first analysis (MB) | RSS after (MB) | RSS, labels done (MB) | peak RSS (MB) |`);
  console.log(`|---|---|${envs.length > 1 ? '---|' : ''}---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const [key, hs] of runs) {
    const m = (f: (h: HoverBench) => number, d = 0) => median(hs.map(f)).toFixed(d);
    console.log(`| ${key} | ${hs[0].tokens} | ${m((h) => h.firstAnalysisMs)} | ${m((h) => h.firstServerMs)} | ${m((h) => h.editMs, 1)} | ${m((h) => h.editPackedMs, 1)} | ${m((h) => h.p95, 2)} | ${m((h) => h.labelsMs)} | ${m((h) => h.loadedRssMB)} | ${m((h) => h.firstRssMB)} | ${m((h) => h.rssMB)} | ${m((h) => h.settledRssMB)} | ${m((h) => h.peakRssMB)} |`);
  }
}

const line = (h: HoverBench) =>
  `first ${h.firstAnalysisMs.toFixed(0)} ms (server ${h.firstServerMs}), edit ${h.editMs.toFixed(1)} / packed ${h.editPackedMs.toFixed(1)} ms, hover p95 ${h.p95.toFixed(2)} ms, ` +
  `labels at ${h.labelsMs.toFixed(0)} ms, RSS loaded ${h.loadedRssMB.toFixed(0)} → first ${h.firstRssMB.toFixed(0)} → after ${h.rssMB.toFixed(0)} → labels done ${h.settledRssMB.toFixed(0)} MB (peak ${h.peakRssMB.toFixed(0)})`;

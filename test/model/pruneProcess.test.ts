// The extension's runner for "Prune Experts for a Corpus…" and "Expert Offloading…" (extension/prune/pruneProcess.ts)
// against the real CLI (dist/cli.js) on the embedded model: the --progress json lines, the result, a refusal, Cancel
// (the child killed, nothing kept), and the export into a "global storage" models folder through a staging folder.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { LineSplitter } from '../../common/importEvents';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curveSteps, parsePruneEvent, type PruneProgressEvent } from '../../common/pruneEvents';
import { keepCount } from '../../common/expertImportance';
import { DEFAULT_FRACTIONS } from '../../server/prune/pruneCurve';
import { exportPrunedIntoStorage, runPruneCli } from '../../extension/prune/pruneProcess';
import { offloadArgs, pruneArgs, type PruneRequest } from '../../extension/prune/pruneCliArgs';
import { distDir, embeddedModel } from '../support/paths';

describe('pruning and offloading in a child process (the extension commands\' runner)', function () {
  this.timeout(300000);
  const dir = mkdtempSync(join(tmpdir(), 'moe-lens-prune-process-'));
  const cli = join(distDir, 'cli.js');
  const models = join(dir, 'globalStorage', 'models');
  const text = readFileSync(join(embeddedModel, 'profile', 'python.txt'), 'utf8');
  const corpus = join(dir, 'corpus.py');
  const held = join(dir, 'held.py');
  writeFileSync(corpus, text.slice(0, 1500));
  writeFileSync(held, text.slice(1500, 2500));
  const manifest = JSON.parse(readFileSync(join(embeddedModel, 'moe.json'), 'utf8')) as { layers: number; experts: number; topK: number };
  const request: PruneRequest = { corpus: [corpus], eval: [held], criterion: 'reap', tolerance: 0.02, keep: 'auto', merge: false, draws: 2 };
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prune --keep auto: progress counts every measurement of the curve in order, then the result with the threshold\'s count', async () => {
    const seen: PruneProgressEvent[] = [];
    const r = await runPruneCli({ cli, ...pruneArgs(request), onProgress: (p) => seen.push(p) });
    assert.equal(r.kind, 'done', JSON.stringify(r));
    if (r.kind !== 'done' || r.done.command !== 'prune') return;
    const res = r.done.result;
    const measuring = seen.filter((p) => p.phase === 'measuring');
    const pruned = new Set(DEFAULT_FRACTIONS.map((f) => keepCount(f, manifest.experts, manifest.topK))).size - 1;
    assert.equal(measuring.length, curveSteps(pruned, request.draws, false, false));
    assert.deepEqual(measuring.map((p) => p.done), measuring.map((_, i) => i + 1));
    assert.ok(seen.findIndex((p) => p.phase === 'profiling') < seen.findIndex((p) => p.phase === 'measuring'));
    assert.equal(res.keep, res.curve.find((p) => p.keptFraction === res.threshold)!.kept);
    assert.equal(res.disabled.length, manifest.layers * (manifest.experts - res.keep));
    assert.equal(res.out, null);
  });

  it('offload: the LRU curve for C = 1 … E per layer', async () => {
    const r = await runPruneCli({ cli, ...offloadArgs({ corpus: [corpus] }) });
    assert.equal(r.kind, 'done', JSON.stringify(r));
    if (r.kind !== 'done' || r.done.command !== 'offload') return;
    assert.equal(r.done.result.layers.length, manifest.layers);
    assert.ok(r.done.result.layers.every((l) => l.lruHitRate.length === manifest.experts));
  });

  it('a glob matching nothing: failed with the CLI\'s sentence', async () => {
    const r = await runPruneCli({ cli, ...pruneArgs({ ...request, corpus: [join(dir, 'nothing-*.py')] }) });
    assert.equal(r.kind, 'failed');
    if (r.kind === 'failed') assert.match(r.message, /the glob matches no file/);
  });

  it('Cancel during the curve kills the child: cancelled; and an export cancelled midway leaves the models folder empty', async () => {
    const abort = new AbortController();
    const r = await runPruneCli({ cli, ...pruneArgs(request), signal: abort.signal, onProgress: (p) => p.phase === 'measuring' && abort.abort() });
    assert.equal(r.kind, 'cancelled');
    const abort2 = new AbortController();
    const e = await exportPrunedIntoStorage({ cli, request: { ...request, keep: 6 }, modelsDir: models, name: 'cancelled', signal: abort2.signal, onProgress: (p) => p.phase === 'measuring' && p.done === 2 && abort2.abort() });
    assert.equal(e.kind, 'cancelled');
    assert.deepEqual(readdirSync(models), [], 'no staging folder, no model');
  });

  it('export: the same pruning as a model folder with keep experts per layer; a second export of the name gets "-2"', async () => {
    const first = await exportPrunedIntoStorage({ cli, request: { ...request, keep: 6, draws: 1 }, modelsDir: models, name: 'embedded-reap-6of16' });
    assert.equal(first.kind, 'done', JSON.stringify(first));
    if (first.kind !== 'done') return;
    assert.equal(first.dir, join(models, 'embedded-reap-6of16'));
    const m = JSON.parse(readFileSync(join(first.dir, 'moe.json'), 'utf8')) as { experts: number; layers: number };
    assert.deepEqual([m.experts, m.layers], [6, manifest.layers]);
    assert.equal(first.result.out, first.dir);
    assert.equal(first.result.disabled.length, manifest.layers * (manifest.experts - 6));
    const second = await exportPrunedIntoStorage({ cli, request: { ...request, keep: 6, draws: 1 }, modelsDir: models, name: 'embedded-reap-6of16' });
    assert.equal(second.kind === 'done' && second.folder, 'embedded-reap-6of16-2');
    assert.deepEqual(readdirSync(models).sort(), ['embedded-reap-6of16', 'embedded-reap-6of16-2']);
    assert.ok(!existsSync(join(models, '.importing-')));
  });

  it('the CLI killed (SIGTERM) once it starts writing --out: no OUT, no OUT.partial-PID; or it had finished and OUT is whole', async () => {
    const out = join(dir, 'killed-export');
    const child = spawn(process.execPath, [cli, ...pruneArgs({ ...request, keep: 6, draws: 1 }, out).args], { stdio: ['ignore', 'pipe', 'ignore'] });
    const lines = new LineSplitter();
    try {
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        for (const l of lines.push(c)) if (parsePruneEvent(l)?.event === 'progress' && l.includes('"exporting"')) child.kill('SIGTERM');
      });
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => child.once('close', (c, s) => res([c, s])));
      const left = readdirSync(dir).filter((f) => f.startsWith('killed-export'));
      if (code === 0) assert.deepEqual(left, ['killed-export'], 'finished before the signal: the whole folder');
      else {
        assert.ok(code === 143 || signal === 'SIGTERM', `exit ${code} ${signal}`);
        assert.deepEqual(left, [], 'nothing half-written');
      }
    } finally {
      child.kill('SIGKILL');
    }
  });
});

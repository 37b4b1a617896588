// Issue 12, items 1 and 2 on the real model: the expert-label cache (client folder only, keyed by model + corpus +
// format, atomic O_EXCL writes, validated reads) and model loads that never finish (a FIFO stands in for a hung mount).
import assert from 'node:assert/strict';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelSession } from '../../server/model/modelSession';
import { ModelHost } from '../../server/lsp/modelHost';
import { expertLabels, labelCacheFile, labelCacheKey, readProfileCorpus } from '../../server/steering/labels';
import { LABELS_FORMAT, readCachedLabels, writeFileAtomic } from '../../server/steering/labelCache';
import { makeFifo, modelCopyWithoutLabels } from '../support/hostileModels';
import { embeddedModel } from '../support/paths';

describe('expert-label cache (issue 12 item 1)', function () {
  this.timeout(300000);
  let s: ModelSession;
  before(async () => {
    s = await ModelSession.load(embeddedModel, 'cpu');
  });
  after(() => s?.dispose());

  // Before: the key was only the model sha256 (a changed corpus reused old labels).
  it('the key covers the model, every corpus file and the label format', async () => {
    const corpus = await readProfileCorpus(s);
    const k = labelCacheKey(s.modelId, corpus);
    assert.notEqual(k, labelCacheKey(s.modelId.replace(/^./, '0'), corpus));
    assert.notEqual(k, labelCacheKey(s.modelId, corpus.map((c, i) => (i === 0 ? { ...c, text: `${c.text} ` } : c))));
    assert.notEqual(k, labelCacheKey(s.modelId, corpus.slice(1)));
    assert.equal(k, labelCacheKey(s.modelId, corpus.map((c) => ({ ...c }))));
  });

  // Before: written to `${file}.${pid}.tmp` with writeFile, which follows a symlink planted at that predictable name.
  it('writes atomically under an unpredictable name: a planted symlink is never followed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moe-lens-atomic-'));
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'keep me');
    const file = join(dir, 'cache.json');
    symlinkSync(victim, `${file}.${process.pid}.tmp`); // the old predictable name
    symlinkSync(victim, file); // and the destination itself
    await writeFileAtomic(file, '{"x":1}');
    assert.equal(readFileSync(victim, 'utf8'), 'keep me');
    assert.equal(readFileSync(file, 'utf8'), '{"x":1}');
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp') && !n.includes(String(process.pid))), [], 'no temporary file left behind');
  });

  // Before: any JSON with `labels` of the right length was trusted, e.g. a label carrying a Markdown image.
  it('a planted or malformed cache file is ignored and the labels are computed', async () => {
    const corpus = await readProfileCorpus(s);
    const key = labelCacheKey(s.modelId, corpus);
    const domains = corpus.map((c) => c.domain);
    const dir = mkdtempSync(join(tmpdir(), 'moe-lens-labels-'));
    const shape = s.info;
    const good = { format: LABELS_FORMAT, key, domains, labels: Array.from({ length: shape.layers }, () => Array.from({ length: shape.experts }, () => 'x')) };
    const bad: [string, unknown][] = [
      ['wrong key', { ...good, key: 'planted' }],
      ['too few rows', { ...good, labels: good.labels.slice(1) }],
      ['a non-string label', { ...good, labels: good.labels.map((r, l) => (l ? r : [1, ...r.slice(1)])) }],
      ['an oversized label', { ...good, labels: good.labels.map((r, l) => (l ? r : ['y'.repeat(5000), ...r.slice(1)])) }],
      ['not JSON', '{"format": 6, '],
    ];
    for (const [what, data] of bad) {
      writeFileSync(labelCacheFile(dir, key), typeof data === 'string' ? data : JSON.stringify(data));
      assert.equal(await readCachedLabels(dir, key, shape, domains), undefined, what);
    }
    writeFileSync(labelCacheFile(dir, key), JSON.stringify(good));
    assert.deepEqual((await readCachedLabels(dir, key, shape, domains))?.labels, good.labels, 'a well-formed file is used');
  });

  // Before: labels were cached in os.tmpdir()/moe-lens-cache whatever the client.
  it('without a client folder nothing is written; with one, one file appears there', async () => {
    const before = existsSync(join(tmpdir(), 'moe-lens-cache')) ? readdirSync(join(tmpdir(), 'moe-lens-cache')).length : 0;
    const copy = modelCopyWithoutLabels(); // its own session (expertLabels memoizes per folder, model, dir), no shipped labels
    const t = await ModelSession.load(copy, 'cpu');
    try {
      const set = await expertLabels(t, undefined);
      assert.ok(set && set.labels.length === t.info.layers);
      const after = existsSync(join(tmpdir(), 'moe-lens-cache')) ? readdirSync(join(tmpdir(), 'moe-lens-cache')).length : 0;
      assert.equal(after, before, 'nothing written to the shared temp folder');
      const dir = mkdtempSync(join(tmpdir(), 'moe-lens-client-'));
      await expertLabels(t, dir);
      assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('expert-labels-')).length, 1);
    } finally {
      await t.dispose();
    }
  });
});

describe('model loads that never finish (issue 12 item 2)', function () {
  this.timeout(120000);

  // Before: no timeout — session() waited forever, and the analysis queue with it. The loader never finishes, so the
  // short timeout cannot race a real load on a slow machine.
  it('a load that hangs fails after the load timeout with a message naming the folder', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'moe-lens-hung-')), 'model');
    const fifo = makeFifo(`${dir}.fifo`);
    // the FIFO read happens on the libuv pool, not the main thread: open it asynchronously
    const { readFile } = await import('node:fs/promises');
    const pending = readFile(fifo);
    try {
      const host = new ModelHost(async () => {
        await pending;
        throw new Error('the FIFO was released');
      }, 1500);
      host.configure({ modelPath: dir, executionProvider: 'cpu', maxTokens: 4096 });
      await assert.rejects(host.session(), (e: Error) => e.message.startsWith(dir) && /loading did not finish within 2 s/.test(e.message));
    } finally {
      closeSync(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK)); // release the blocked read (EOF)
      await pending;
    }
  });

  // Before: a caller that asked while the hung load was current waited on it forever, even after a switch. The
  // default (long) timeout: the real load of the embedded model may be slow on a loaded machine.
  it('callers waiting on a superseded load move on to the newer one', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'moe-lens-hung-')), 'model');
    const fifo = makeFifo(`${dir}.fifo`);
    const { readFile } = await import('node:fs/promises');
    const blocked = readFile(fifo);
    try {
      const host = new ModelHost(async (d) => (d === embeddedModel ? ModelSession.load(d, 'cpu') : blocked.then(() => ModelSession.load(d, 'cpu'))));
      host.configure({ modelPath: dir, executionProvider: 'cpu', maxTokens: 4096 });
      const waiting = host.session(); // e.g. the analysis queue, asking during the hung load
      host.configure({ modelPath: embeddedModel, executionProvider: 'cpu', maxTokens: 4096 });
      const s = await waiting;
      assert.equal(s.dir, embeddedModel);
      await s.dispose();
    } finally {
      closeSync(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK));
      await blocked;
    }
  });

  // Before: Promise.race([old load, superseded → newer load]) let the old load's rejection win when it failed after
  // being superseded but before the newer load finished.
  it('a superseded load that fails afterwards does not fail the callers waiting on it', async () => {
    let failOld!: (e: Error) => void;
    const old = new Promise<never>((_, reject) => (failOld = reject));
    let releaseNew!: () => void;
    const gate = new Promise<void>((r) => (releaseNew = r));
    const host = new ModelHost(async (d) => (d === embeddedModel ? gate.then(() => ModelSession.load(d, 'cpu')) : old));
    host.configure({ modelPath: join(tmpdir(), 'moe-lens-superseded-model'), executionProvider: 'cpu', maxTokens: 4096 });
    const waiting = host.session();
    host.configure({ modelPath: embeddedModel, executionProvider: 'cpu', maxTokens: 4096 });
    failOld(new Error('the superseded load failed'));
    await new Promise((r) => setTimeout(r, 50)); // the rejection has been delivered before the newer load finishes
    releaseNew();
    const s = await waiting;
    assert.equal(s.dir, embeddedModel);
    await s.dispose();
  });
});

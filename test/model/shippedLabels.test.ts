// The expert labels the embedded model ships (moe.json profileCorpus.labels → expert-labels.json): they are what the
// model and its corpus give today (recomputed here, so a retrained model or an edited corpus cannot keep stale labels
// silently: `npm run model:labels` writes them again), a server uses them instead of the profiling pass, and a file
// that does not fit — another key, shape or format, malformed, too large, outside the folder, not a regular file — is
// ignored: the labels are computed as on a model without them.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ModelSession } from '../../server/model/modelSession';
import { FILE_CAPS } from '../../server/model/modelFiles';
import { LABELS_FORMAT, labelCacheKey, type CachedLabels } from '../../server/steering/labelCache';
import { expertLabels, readProfileCorpus } from '../../server/steering/labels';
import { readShippedLabels, shippedLabelsText } from '../../server/steering/shippedLabels';
import { shippedLabelsFor } from '../../server/steering/writeShippedLabels';
import { makeFifo, modelCopy, releaseFifo } from '../support/hostileModels';
import { embeddedModel } from '../support/paths';

describe('expert labels shipped with the embedded model', function () {
  this.timeout(300000);
  let s: ModelSession;
  let file: string;
  before(async () => {
    s = await ModelSession.load(embeddedModel, 'cpu');
    file = s.manifest.profileCorpus!.labels!;
  });
  after(() => s?.dispose());

  it('are the labels the model and its profile corpus give (npm run model:labels wrote them)', async () => {
    assert.ok(file, 'moe.json names no profileCorpus.labels');
    const expected = await shippedLabelsFor(s);
    assert.ok(expected);
    const shipped = readFileSync(join(embeddedModel, file), 'utf8');
    const data = JSON.parse(shipped) as CachedLabels;
    assert.equal(data.key, labelCacheKey(s.modelId, await readProfileCorpus(s)), 'another model or corpus: run npm run model:labels');
    assert.equal(data.format, LABELS_FORMAT, 'another label format: run npm run model:labels');
    assert.deepEqual(data.labels, expected.labels, 'the labels changed: run npm run model:labels');
    assert.equal(shipped, shippedLabelsText(expected), 'byte for byte what the script writes');
  });

  it('are used instead of the profiling pass, and nothing is written to the cache folder', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'moe-lens-shipped-'));
    const set = await expertLabels(s, cacheDir);
    assert.ok(set);
    assert.equal(set.profiles, undefined, 'the labels were computed');
    assert.deepEqual(set.labels, (JSON.parse(readFileSync(join(embeddedModel, file), 'utf8')) as CachedLabels).labels);
    assert.deepEqual(readdirSync(cacheDir), []);
  });

  it('a shipped file that does not fit is ignored', async () => {
    const corpus = await readProfileCorpus(s);
    const key = labelCacheKey(s.modelId, corpus);
    const domains = corpus.map((c) => c.domain);
    const good = JSON.parse(readFileSync(join(embeddedModel, file), 'utf8')) as CachedLabels;
    const dir = modelCopy('moe-lens-shipped-');
    const path = join(dir, file);
    const read = (labels = file) => readShippedLabels({ dir, info: s.info, manifest: { ...s.manifest, profileCorpus: { ...s.manifest.profileCorpus!, labels } } }, key, domains);
    assert.deepEqual((await read())?.labels, good.labels, 'the copy as shipped is used');
    const bad: [string, string][] = [
      ['another key (a changed model or corpus)', JSON.stringify({ ...good, key: labelCacheKey(s.modelId, corpus.slice(1)) })],
      ['another label format', JSON.stringify({ ...good, format: LABELS_FORMAT - 1 })],
      ['another domain list', JSON.stringify({ ...good, domains: [...good.domains].reverse() })],
      ['a layer missing', JSON.stringify({ ...good, labels: good.labels.slice(1) })],
      ['an expert missing', JSON.stringify({ ...good, labels: good.labels.map((r) => r.slice(1)) })],
      ['a non-string label', JSON.stringify({ ...good, labels: good.labels.map((r, l) => (l ? r : [7, ...r.slice(1)])) })],
      ['an empty label', JSON.stringify({ ...good, labels: good.labels.map((r, l) => (l ? r : ['', ...r.slice(1)])) })],
      ['an oversized label', JSON.stringify({ ...good, labels: good.labels.map((r, l) => (l ? r : ['y'.repeat(5000), ...r.slice(1)])) })],
      ['not JSON', shippedLabelsText(good).slice(0, 100)],
      ['larger than a labels file of this shape can be', shippedLabelsText(good).replace(/\n$/, ' '.repeat(200000))],
    ];
    for (const [what, text] of bad) {
      writeFileSync(path, text);
      assert.equal(await read(), undefined, what);
    }
    writeFileSync(path, 'x');
    appendFileSync(path, Buffer.alloc(FILE_CAPS.labels + 1)); // over the cap of its kind: refused before it is read
    assert.equal(await read(), undefined, 'over the labels cap');
    rmSync(path);
    assert.equal(await read(), undefined, 'missing');
    // a valid file, but outside the model directory: by name or through a link
    const outside = join(dirname(dir), 'outside.json');
    writeFileSync(outside, shippedLabelsText(good));
    assert.equal(await read('../outside.json'), undefined, 'a name outside the folder');
    symlinkSync(outside, path);
    assert.equal(await read(), undefined, 'a link out of the folder');
    rmSync(path);
    const fifo = makeFifo(path);
    try {
      assert.equal(await read(), undefined, 'a FIFO (refused without blocking)');
    } finally {
      releaseFifo(fifo);
    }
  });

  it('a model whose corpus changed computes its labels (the shipped ones are for the old corpus)', async () => {
    const dir = modelCopy('moe-lens-shipped-');
    const domains = s.manifest.profileCorpus!.domains;
    appendFileSync(join(dir, Object.values(domains)[0]), '\nconst edited = true;\n');
    const t = await ModelSession.load(dir, 'cpu');
    try {
      const set = await expertLabels(t, undefined);
      assert.ok(set?.profiles, 'the shipped labels were used for a corpus they were not computed on');
      assert.equal(set.labels.length, t.info.layers);
    } finally {
      await t.dispose();
    }
  });
});

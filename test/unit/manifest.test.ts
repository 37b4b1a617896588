import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelLoadError } from '../../server/model/errors';
import { layerName, parseManifest } from '../../server/model/manifest';
import { embeddedModel } from '../support/paths';

const embedded = () => JSON.parse(readFileSync(join(embeddedModel, 'moe.json'), 'utf8')) as Record<string, any>;

/** parseManifest of the embedded manifest after `edit`; returns the error it throws. */
function errorOf(edit: (m: Record<string, any>) => void): ModelLoadError {
  const m = embedded();
  edit(m);
  try {
    parseManifest(JSON.stringify(m));
  } catch (e) {
    assert.ok(e instanceof ModelLoadError, String(e));
    return e;
  }
  assert.fail('the manifest was accepted');
}

describe('moe.json manifest and its schema', () => {
  it('the embedded manifest is valid', () => {
    const m = parseManifest(readFileSync(join(embeddedModel, 'moe.json'), 'utf8'));
    assert.equal(m.format, 'moe-lens/1');
    assert.equal(m.layers * m.experts, 64);
    assert.equal(layerName(m.kvCache.pastKey, 3), 'past_key.3');
  });
  it('not JSON', () => {
    assert.throws(() => parseManifest('{ "format": '), (e: ModelLoadError) => e.file === 'moe.json' && /not valid JSON/.test(e.message));
  });
  const cases: [string, (m: Record<string, any>) => void, string, RegExp][] = [
    ['topK as a string', (m) => (m.topK = 'two'), '/topK', /must be integer/],
    ['unknown format version', (m) => (m.format = 'moe-lens/2'), '/format', /constant/],
    ['missing kvCache', (m) => delete m.kvCache, '/', /missing property "kvCache"/],
    ['missing router.disableBias', (m) => delete m.router.disableBias, '/router', /missing property "disableBias"/],
    ['unknown router function', (m) => (m.router.function = 'magic'), '/router/function', /allowed values/],
    ['a kv template without {layer}', (m) => (m.kvCache.pastKey = 'past_key'), '/kvCache/pastKey', /pattern/],
    ['a positive disable bias', (m) => (m.router.disableBias = 5), '/router/disableBias', /<= -1/],
    ['a malformed sha256', (m) => (m.provenance.sha256 = 'abc'), '/provenance/sha256', /pattern/],
    ['an unknown output key', (m) => (m.outputs.extra = 'x'), '/outputs', /additional properties/],
    ['topK larger than experts', (m) => (m.topK = 17), '/topK', /topK \(17\) is larger than experts \(16\)/],
  ];
  for (const [name, edit, field, re] of cases) {
    it(name, () => {
      const e = errorOf(edit);
      assert.equal(e.file, 'moe.json');
      assert.equal(e.field, field);
      assert.match(e.message, re);
      assert.ok(e.message.startsWith(`moe.json (${field}): `), e.message);
    });
  }
});

// The extension's stores, outside an editor host (so `npm run test:fast` runs them): their pure cores —
// RoutingResults (which result RoutingStore holds per document, and when a closed document's goes) and
// RefreshCoalescer (one fetch per quiet period per document) and ServerStatusStore's modelChanged.
import assert from 'node:assert/strict';
import type { RoutingResult } from '../../common/protocol';
import { RefreshCoalescer } from '../../extension/refreshCoalescer';
import { RoutingResults } from '../../extension/routingResults';
import { modelChanged } from '../../extension/statusChange';

const result = (version: number, partial = false): RoutingResult => ({ version, tokens: 0, ...(partial ? { partial } : {}) }) as unknown as RoutingResult;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RoutingResults (RoutingStore)', () => {
  it('serves a held result only for its version and until the server supersedes it', () => {
    const s = new RoutingResults();
    const r = result(3);
    assert.equal(s.remember('a', r), true);
    assert.equal(s.current('a', 3), r);
    assert.equal(s.current('a', 4), undefined, 'another version asks the server');
    assert.equal(s.current('a', undefined), undefined, 'a document not open asks the server');
    s.superseded('a');
    assert.equal(s.current('a', 3), undefined);
    assert.equal(s.peek('a'), r, 'still the base of the next delta');
    const r4 = result(4);
    s.remember('a', r4);
    assert.equal(s.current('a', 4), r4);
  });

  it('never replaces a result with an older one, nor a complete result with a partial one of its version', () => {
    const s = new RoutingResults();
    const full = result(5);
    s.remember('a', full);
    assert.equal(s.remember('a', result(4)), false);
    assert.equal(s.remember('a', result(5, true)), false);
    assert.equal(s.peek('a'), full);
    const partial = result(6, true);
    assert.equal(s.remember('a', partial), true);
    assert.equal(s.remember('a', result(6)), true, 'the complete result replaces the partial one');
  });

  it('drops a closed document entirely (result and staleness), other documents untouched', () => {
    const s = new RoutingResults();
    s.remember('a', result(1));
    s.remember('b', result(1));
    s.superseded('a');
    s.forget('a');
    assert.equal(s.peek('a'), undefined);
    assert.equal(s.size, 1);
    s.remember('a', result(1)); // reopened: version 1 again is current, not stale from before
    assert.ok(s.current('a', 1));
    s.superseded('never-held');
    assert.equal(s.peek('never-held'), undefined, 'a notification for a document with no result keeps nothing');
    s.clear();
    assert.equal(s.size, 0);
  });
});

describe('RefreshCoalescer (RoutingStore.refresh)', () => {
  it('one fetch for a burst of notifications; a complete notification wins over partial ones', async () => {
    const fetched: [string, boolean][] = [];
    const c = new RefreshCoalescer(async (uri, partial) => void fetched.push([uri, partial]), 5);
    for (let i = 0; i < 20; i++) c.notify('a', true);
    c.notify('a', false);
    c.notify('a', true);
    for (let i = 0; i < 100 && !fetched.length; i++) await sleep(5);
    await sleep(20);
    assert.deepEqual(fetched, [['a', false]]);
  });

  it('forget(uri) drops a pending fetch of a closed document and leaves the others', async () => {
    const fetched: string[] = [];
    const c = new RefreshCoalescer(async (uri) => void fetched.push(uri), 5);
    c.notify('closed');
    c.notify('open');
    c.forget('closed');
    for (let i = 0; i < 100 && !fetched.length; i++) await sleep(5);
    await sleep(20);
    assert.deepEqual(fetched, ['open']);
    c.clear();
  });
});

describe('modelChanged (ServerStatusStore)', () => {
  const model = { name: 'm', layers: 4, experts: 16, topK: 2, executionProvider: 'cpu', contextLength: 512, vocabSize: 4096 };
  const ready = { state: 'ready', activeRules: 0, model } as const;
  it('redraws when the model comes, goes, is replaced or gets its labels; not for an analysis message', () => {
    assert.equal(modelChanged({ state: 'loading', activeRules: 0 }, ready), true);
    assert.equal(modelChanged(ready, { ...ready, model: { ...model, name: 'other' } }), true);
    assert.equal(modelChanged(ready, { ...ready, model: { ...model, labels: [['a']] } }), true);
    assert.equal(modelChanged(ready, { state: 'error', activeRules: 0, message: 'x' }), true);
    assert.equal(modelChanged(ready, { ...ready, message: 'Analysing a.py', activeRules: 1 }), false);
  });
});

// The extension's stores, outside an editor host (so `npm run test:fast` runs them): their pure cores —
// RoutingResults (which result RoutingStore holds per document, and when a closed document's goes) and
// RefreshCoalescer (one fetch per quiet period per document), ServerStatusStore's modelChanged and SteeringStore's
// SteeringSync (against the server's own rule validator).
import assert from 'node:assert/strict';
import type { RoutingResult, SteeringRule } from '../../common/protocol';
import { RefreshCoalescer } from '../../extension/refreshCoalescer';
import { RoutingResults } from '../../extension/routingResults';
import { modelChanged } from '../../extension/statusChange';
import { INVALID_PARAMS, SteeringSync } from '../../extension/steering/steeringSync';
import { validateRules } from '../../server/routing/expertBias';

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

describe('SteeringSync (SteeringStore)', () => {
  /** A host whose "server" is the real rule validator for a model of this shape (null: no server running). */
  function host(shape: { layers: number; experts: number; topK: number } | null, initial: SteeringRule[] = []) {
    const h = { stored: initial as readonly SteeringRule[], fired: [] as (readonly SteeringRule[])[], warnings: [] as string[], server: shape };
    const sync = new SteeringSync({
      stored: () => h.stored,
      store: async (rules) => void (h.stored = rules),
      send: async (rules) => {
        if (!h.server) return undefined;
        try {
          return validateRules(rules, h.server);
        } catch (e) {
          throw Object.assign(new Error((e as Error).message), { code: INVALID_PARAMS }); // as the LSP maps it
        }
      },
      changed: (rules) => void h.fired.push(rules),
      warn: (m) => void h.warnings.push(m),
    });
    return { h, sync };
  }
  const off = (layer: number, expert: number): SteeringRule => ({ layer, expert, mode: 'disable' });

  it('stores and announces what the server accepted; a refused change leaves the stored state as it was', async () => {
    const { h, sync } = host({ layers: 2, experts: 4, topK: 2 });
    await sync.apply([off(0, 1)]);
    assert.deepEqual(sync.rules, [off(0, 1)]);
    assert.equal(h.fired.length, 1);
    await assert.rejects(sync.apply([off(0, 1), off(5, 0)]), /layer 5 does not exist/);
    assert.deepEqual(sync.rules, [off(0, 1)], 'unchanged after a refusal');
    assert.equal(h.fired.length, 1, 'nothing announced for a refusal');
  });

  it('with no server running, keeps the rules for the next start', async () => {
    const { h, sync } = host(null);
    await sync.apply([off(9, 9)]);
    assert.deepEqual(sync.rules, [off(9, 9)]);
    h.server = { layers: 2, experts: 4, topK: 2 };
    await sync.resend();
    assert.deepEqual(sync.rules, [], 'the new model refuses them: cleared');
    assert.equal(h.warnings.length, 1);
    assert.match(h.warnings[0], /refused and cleared/);
    assert.deepEqual(h.fired.at(-1), []);
  });

  it('resend keeps the rules when the failure is not a refusal (the model did not load)', async () => {
    const stored = [off(1, 2)];
    const failing = new SteeringSync({
      stored: () => stored,
      store: async () => assert.fail('nothing is stored'),
      send: async () => Promise.reject(Object.assign(new Error('no model'), { code: -32803 })),
      changed: () => assert.fail('nothing is announced'),
      warn: () => assert.fail('no warning'),
    });
    await failing.resend();
    assert.deepEqual(failing.rules, stored);
  });
});

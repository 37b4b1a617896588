// The server's incremental path end to end: after an edit, only the tokens from the first change on run
// through the model, and the result equals a fresh full analysis of the same text (up to float rounding).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Methods, type PackedRoutingResult, type RoutingResult, type SteeringRule } from '../../common/protocol';
import { unpackRouting } from '../../common/routingCodec';
import { checkInvariants } from '../support/invariants';
import { embeddedModel } from '../support/paths';
import { TestServer } from './client';

/** moeLens/routing as JSON (no `encoding`): a RoutingResult. */
const routing = async (s: TestServer, uri: string) => unpackRouting(await s.conn.sendRequest(Methods.routing, { textDocument: { uri } }));
/** Any rules, valid or not: the server validates them. */
const setRules = (s: TestServer, rules: unknown) => s.conn.sendRequest(Methods.setSteering, { rules: rules as SteeringRule[] });

/** The line/character position just past the end of `text`. */
function endOf(text: string): { line: number; character: number } {
  const lines = text.split('\n');
  return { line: lines.length - 1, character: lines[lines.length - 1].length };
}

/**
 * Same routing as a full pass up to float rounding: the cached forward multiplies in other shapes than the full one,
 * so a near-tie between two experts may flip (at most 0.1% of the slots); weights are compared where the ids agree.
 */
function assertSameRouting(inc: RoutingResult, full: RoutingResult): void {
  assert.equal(inc.tokens, full.tokens);
  assert.deepEqual(inc.ids, full.ids);
  assert.deepEqual(inc.offsets, full.offsets);
  assert.equal(inc.windows, full.windows);
  assert.equal(inc.steered, full.steered);
  assert.equal(inc.experts.length, full.experts.length);
  let differ = 0;
  let maxW = 0;
  inc.experts.forEach((e, i) => {
    if (e !== full.experts[i]) differ++;
    else maxW = Math.max(maxW, Math.abs(inc.weights[i] - full.weights[i]));
  });
  assert.ok(differ <= Math.ceil(inc.experts.length * 0.001), `${differ} of ${inc.experts.length} expert ids differ`);
  assert.ok(maxW < 1e-3, `gate weights differ by ${maxW}`);
  const maxDiff = (a: number[], b: number[]) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
  assert.ok(maxDiff(inc.entropy, full.entropy) < 1e-3, 'entropy differs');
  assert.ok(maxDiff(inc.surprisal, full.surprisal) < 1e-2, 'surprisal differs');
  if (full.baselineExperts) {
    const b = inc.baselineExperts ?? [];
    const bd = b.filter((e, i) => e !== full.baselineExperts![i]).length;
    assert.ok(b.length === full.baselineExperts.length && bd <= Math.ceil(b.length * 0.001), `${bd} baseline expert ids differ`);
  }
}

describe('incremental analysis over LSP (the real server on the embedded model)', function () {
  let s: TestServer;
  let text = '';
  before(async () => {
    // ~3k tokens of code (under maxTokens 4096, so an edit at the end is analysed): six windows of the embedded model's
    // 512-token context.
    for (const f of ['typescript_js', 'python']) text += readFileSync(join(embeddedModel, 'profile', `${f}.txt`), 'utf8');
    text = text.slice(0, 9000);
    s = new TestServer();
    await s.start();
    assert.equal((await s.settled()).state, 'ready');
  });
  after(() => s.stop());

  it('a one-token edit at the end of a long document runs only a few tokens and equals a fresh full analysis', async () => {
    const uri = 'file:///long.ts';
    s.open(uri, text, 'typescript');
    const first = await routing(s, uri);
    assert.ok(first.windows > 1, 'the document spans several windows');
    assert.equal(first.incremental?.computed, first.tokens, 'the first analysis is a full pass');
    const edited = `${text};`;
    const v = s.edit(uri, { start: endOf(text), end: endOf(text) }, ';');
    const inc = await routing(s, uri);
    assert.equal(inc.version, v);
    checkInvariants(inc, edited);
    assert.ok(inc.incremental, 'no incremental stats');
    assert.ok(inc.incremental.computed <= 4, `computed ${inc.incremental.computed} tokens`);
    assert.equal(inc.incremental.computed + inc.incremental.reused, inc.tokens);
    s.open('file:///fresh.ts', edited, 'typescript');
    const fresh = await routing(s, 'file:///fresh.ts');
    assert.equal(fresh.incremental?.reused, 0);
    assertSameRouting(inc, fresh);
    // Closed: their caches would otherwise count against the server's cache budget in the next test.
    for (const u of [uri, 'file:///fresh.ts']) void s.conn.sendNotification('textDocument/didClose', { textDocument: { uri: u } });
  });

  it('an edit in the middle resumes in its window; under steering both the steered and the baseline pass continue', async () => {
    const uri = 'file:///steered.ts';
    s.open(uri, text, 'typescript');
    const base = await routing(s, uri);
    const { layers: L, topK: K } = base.model;
    const e = base.experts[(5 * L + 2) * K]; // top-1 of token 5 at layer 2
    await setRules(s, [{ layer: 2, expert: e, mode: 'disable' }]);
    try {
      const steered = await routing(s, uri);
      assert.equal(steered.steered, true);
      // The unsteered analysis of this very version is continued as the baseline: nothing of it is recomputed.
      assert.equal(steered.incremental?.computed, steered.tokens);
      assert.deepEqual(steered.baselineExperts, base.experts);
      // An edit inside the third window (tokens ~1024–1535): windows before it are reused, in both passes.
      const at = base.offsets[2 * 1200];
      const lines = text.slice(0, at).split('\n');
      const pos = { line: lines.length - 1, character: lines[lines.length - 1].length };
      const edited = `${text.slice(0, at)} foo(bar)${text.slice(at)}`;
      s.edit(uri, { start: pos, end: pos }, ' foo(bar)');
      const inc = await routing(s, uri);
      checkInvariants(inc, edited);
      assert.ok(inc.incremental && inc.incremental.reused >= 2 * 1024, `reused ${inc.incremental?.reused} token runs`);
      s.open('file:///steered-fresh.ts', edited, 'typescript');
      const fresh = await routing(s, 'file:///steered-fresh.ts');
      assertSameRouting(inc, fresh);
      // Steering off: the baseline pass of this version is the unsteered result, reused as it is.
      await setRules(s, []);
      const off = await routing(s, uri);
      assert.equal(off.steered, false);
      assert.equal(off.incremental?.computed, 0);
      assert.deepEqual(off.experts, inc.baselineExperts);
    } finally {
      await setRules(s, []);
    }
  });

  it('packed answers: the same result as JSON, and after an edit at the end a delta of a few tokens', async () => {
    const uri = 'file:///packed.ts';
    const short = text.slice(0, 6000);
    s.open(uri, short, 'typescript');
    const json = await routing(s, uri);
    const packed = (await s.conn.sendRequest(Methods.routing, { textDocument: { uri }, encoding: 'packed' })) as PackedRoutingResult;
    assert.equal(packed.packed.keep, 0);
    const first = unpackRouting(packed);
    assert.deepEqual([first.ids, first.offsets, first.experts], [json.ids, json.offsets, json.experts]);
    assert.ok(first.weights.every((w, i) => Math.abs(w - json.weights[i]) < 1e-6), 'weights beyond float32 rounding');
    const sizes = { json: JSON.stringify(json).length, packed: JSON.stringify(packed).length };
    assert.ok(sizes.packed * 2 < sizes.json, `packed ${sizes.packed} vs JSON ${sizes.json} characters`);
    s.edit(uri, { start: endOf(short), end: endOf(short) }, ';');
    const delta = (await s.conn.sendRequest(Methods.routing, { textDocument: { uri }, encoding: 'packed', since: first.version })) as PackedRoutingResult;
    assert.ok(delta.packed.keep >= json.tokens - 3, `delta keeps ${delta.packed.keep} of ${json.tokens} tokens`);
    assert.ok(JSON.stringify(delta).length < sizes.packed / 20, 'the delta is not small');
    const next = unpackRouting(delta, first);
    const full = await routing(s, uri);
    assert.deepEqual([next.ids, next.offsets, next.experts, next.version], [full.ids, full.offsets, full.experts, full.version]);
    checkInvariants(next, `${short};`);
    void s.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  });

  it('hover after an incremental edit answers from the new result', async () => {
    const uri = 'file:///hover.ts';
    const short = text.slice(0, 3000);
    s.open(uri, short, 'typescript');
    await routing(s, uri);
    s.edit(uri, { start: endOf(short), end: endOf(short) }, '\n// done\n');
    const r = await routing(s, uri);
    assert.ok(r.incremental && r.incremental.computed < 10);
    const h = await s.conn.sendRequest<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 1 } });
    assert.ok(h, 'no hover');
    assert.match(h.contents.value, /\| 0 \|/);
  });
});

describe('a long document shows its first windows while the rest run (partial results)', function () {
  let s: TestServer;
  before(async () => {
    s = new TestServer({ MOE_LENS_PARTIAL_AFTER_MS: '0' }); // publish after every window, whatever the machine's speed
    await s.start();
    assert.equal((await s.settled()).state, 'ready');
  });
  after(() => s.stop());

  it('routingChanged with partial: true, a prefix result that the complete one extends; steered analyses publish none', async () => {
    let text = '';
    for (const f of ['typescript_js', 'python', 'c_cpp']) text += readFileSync(join(embeddedModel, 'profile', `${f}.txt`), 'utf8');
    const uri = 'file:///partial.ts';
    const seen: RoutingResult[] = [];
    s.conn.onNotification(Methods.routingChanged, (p: { uri: string; partial?: boolean }) => {
      if (p.uri === uri && p.partial) void s.conn.sendRequest(Methods.routing, { textDocument: { uri }, partial: true }).then((r) => seen.push(unpackRouting(r)));
    });
    s.open(uri, text, 'typescript');
    const full = await routing(s, uri);
    assert.ok(full.windows >= 4, `${full.windows} windows`);
    assert.equal(full.partial, undefined);
    await new Promise((r) => setTimeout(r, 200)); // answers to the last partial requests
    const partials = seen.filter((r) => r.partial);
    assert.ok(partials.length >= 1, `no partial result among ${seen.length} answers`);
    for (const p of partials) {
      const C = p.model.contextLength;
      const { layers: L, topK: K } = p.model;
      assert.ok(p.tokens > 0 && p.tokens < full.tokens && p.tokens % C === 0, `partial of ${p.tokens} tokens`);
      assert.deepEqual(p.offsets, full.offsets.slice(0, 2 * p.tokens));
      assert.deepEqual(p.experts, full.experts.slice(0, p.tokens * L * K));
      assert.deepEqual(p.surprisal, full.surprisal.slice(0, p.tokens));
      checkInvariants(p, text);
    }
    // Under steering no partial results (they would lack the unsteered baseline).
    const before = s.routingChanged.filter((n) => n.partial).length;
    await s.conn.sendRequest(Methods.setSteering, { rules: [{ layer: 0, expert: 1, mode: 'disable' }] });
    await routing(s, uri);
    assert.equal(s.routingChanged.filter((n) => n.partial).length, before);
    await s.conn.sendRequest(Methods.setSteering, { rules: [] });
  });
  it('the window on screen runs first: its slice is published before the windows above it', async () => {
    let text = '';
    for (const f of ['python', 'c_cpp', 'typescript_js']) text += readFileSync(join(embeddedModel, 'profile', `${f}.txt`), 'utf8');
    text = text.slice(0, 11000); // ~3.5k tokens: under maxTokens, about seven windows
    const uri = 'file:///scrolled.py';
    const seen: RoutingResult[] = [];
    s.conn.onNotification(Methods.routingChanged, (p: { uri: string; partial?: boolean }) => {
      if (p.uri === uri && p.partial) void s.conn.sendRequest(Methods.routing, { textDocument: { uri }, partial: true }).then((r) => seen.push(unpackRouting(r)));
    });
    const at = Math.floor(text.length * 0.8); // the editor shows a part near the end
    await s.conn.sendNotification(Methods.visibleRanges, { uri, ranges: [[at, at + 2000]] });
    s.open(uri, text, 'python');
    const full = await routing(s, uri);
    await new Promise((r) => setTimeout(r, 200));
    const C = full.model.contextLength;
    const { layers: L, topK: K } = full.model;
    const w = Math.floor(full.offsets.findIndex((o, i) => i % 2 === 0 && o <= at && full.offsets[i + 1] > at) / 2 / C);
    assert.ok(w >= 2, `the visible part is in window ${w}`);
    const first = seen.find((r) => r.partial);
    assert.ok(first, 'no partial result');
    assert.equal(first.firstToken, w * C, 'the first partial result is the window on screen');
    assert.deepEqual(first.offsets, full.offsets.slice(2 * w * C, 2 * (w * C + first.tokens)));
    assert.deepEqual(first.experts, full.experts.slice(w * C * L * K, (w * C + first.tokens) * L * K));
    assert.deepEqual(first.surprisal, full.surprisal.slice(w * C, w * C + first.tokens));
    checkInvariants({ ...full, ...first, offsets: first.offsets.map((o) => o - first.offsets[0]) }, text.slice(first.offsets[0], first.offsets[2 * first.tokens - 1]));
  });
});

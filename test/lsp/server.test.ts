import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { escapeMarkdown } from '../../common/labelText';
import { Methods, type SteeringRule } from '../../common/protocol';
import { unpackRouting } from '../../common/routingCodec';
import { checkInvariants } from '../support/invariants';
import { embeddedModel } from '../support/paths';
import { TestServer } from './client';

/** moeLens/routing as JSON (no `encoding`): a RoutingResult. */
const routing = async (s: TestServer, uri: string) => unpackRouting(await s.conn.sendRequest(Methods.routing, { textDocument: { uri } }));
/** Any rules, valid or not: the server validates them. */
const setRules = (s: TestServer, rules: unknown) => s.conn.sendRequest(Methods.setSteering, { rules: rules as SteeringRule[] });

describe('language server over stdio', function () {
  let s: TestServer;
  const uri = 'file:///sample.py';
  const text = 'import math\n\ndef area(r):\n    return math.pi * r ** 2  # 😀\n\nprint(area(2.5))\n';

  before(async () => {
    s = new TestServer();
    await s.start();
    const st = await s.settled();
    assert.equal(st.state, 'ready', st.message);
    assert.equal(st.model?.executionProvider, 'cpu');
    s.open(uri, text, 'python');
  });
  after(() => s.stop());

  it('moeLens/routing: ranges ordered, non-overlapping, covering the text; array lengths T·L·K; weights in [0,1]', async () => {
    const r = await routing(s, uri);
    assert.equal(r.version, 1);
    assert.ok(r.tokens > 10);
    checkInvariants(r, text);
    assert.equal(r.model.executionProvider, 'cpu');
  });

  it('hover agrees with routing at that token: compact by default (the heatmap layer), every layer with hover.layers "all"', async () => {
    const r = await routing(s, uri);
    const offset = text.indexOf('area');
    const hover = () => s.conn.sendRequest<{ contents: { value: string }; range: { start: { line: number; character: number } } }>('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 5 } });
    const t = r.offsets.findIndex((o, i) => i % 2 === 0 && o <= offset + 1 && r.offsets[i + 1] > offset + 1) / 2;
    const { layers: L, topK: K } = r.model;
    // each expert may carry its label ("E3 (0.17) Python · lowercase (def, self)")
    const row = (l: number) => new RegExp(`\\| ${l} \\| ${r.experts.slice((t * L + l) * K, (t * L + l + 1) * K).map((e) => `E${e} \\(\\d\\.\\d\\d\\)(?: [^|]*?)?`).join(', ')} \\|`);
    const compact = await hover();
    assert.ok(compact, 'no hover');
    assert.match(compact.contents.value, row(0));
    for (let l = 1; l < L; l++) assert.doesNotMatch(compact.contents.value, new RegExp(`^\\| ${l} \\|`, 'm'));
    assert.match(compact.contents.value, new RegExp(`1 of ${L} layers · \\[all layers\\]\\(command:moeLens\\.toggleHoverLayers`));
    assert.equal(compact.range.start.line, 2);
    const pushed = (hoverSettings: unknown) => s.conn.sendNotification('workspace/didChangeConfiguration', { settings: { moeLens: { modelPath: '', executionProvider: 'cpu', maxTokens: 4096, hover: hoverSettings } } });
    await pushed({ layers: 'all', layer: 0 });
    try {
      let full = await hover();
      for (let i = 0; i < 100 && !/fewer layers/.test(full.contents.value); i++) full = await hover();
      for (let l = 0; l < L; l++) assert.match(full.contents.value, row(l));
      // the heatmap on layer 2: that layer's row
      await pushed({ layers: 'compact', layer: 2 });
      let two = await hover();
      for (let i = 0; i < 100 && !/^\| 2 \|/m.test(two.contents.value); i++) two = await hover();
      assert.match(two.contents.value, row(2));
      assert.doesNotMatch(two.contents.value, /^\| 0 \|/m);
    } finally {
      await pushed({ layers: 'compact', layer: 0 });
    }
  });

  it('expert labels arrive in the status once computed, and the hover names them', async () => {
    let labels: string[][] | undefined;
    for (let i = 0; i < 300 && !labels; i++) {
      labels = (await s.conn.sendRequest<{ model?: { labels?: string[][] } }>('moeLens/status')).model?.labels;
      if (!labels) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(labels, 'no labels in the status after 30 s');
    assert.equal(labels.length, 4);
    const r = await routing(s, uri);
    const h = await s.conn.sendRequest<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 5 } });
    const t = r.offsets.findIndex((o, i) => i % 2 === 0 && o <= text.indexOf('area') + 1 && r.offsets[i + 1] > text.indexOf('area') + 1) / 2;
    const e = r.experts[t * r.model.layers * r.model.topK];
    // labels are shown escaped (they come from a file: issue 12 item 1)
    assert.ok(h.contents.value.includes(`E${e} (`) && h.contents.value.includes(escapeMarkdown(labels[0][e])), `hover lacks "${labels[0][e]}"`);
  });

  it('didChange gives the new version, and results are never older than the text', async () => {
    const v = s.change(uri, `${text}x = 1\n`);
    const r = await routing(s, uri);
    assert.equal(r.version, v);
    checkInvariants(r, `${text}x = 1\n`);
  });

  it('rapid edits: the newest version wins', async () => {
    let last = 0;
    for (let i = 0; i < 5; i++) last = s.change(uri, `${text}# edit ${i}\n`);
    const r = await routing(s, uri);
    assert.equal(r.version, last);
  });

  it('disabling an expert removes it from that layer; empty rules restore the baseline exactly', async () => {
    const base = await routing(s, uri);
    const { layers: L, topK: K } = base.model;
    const e = base.experts[(0 * L + 1) * K]; // top-1 expert of token 0 at layer 1
    const state = await setRules(s, [{ layer: 1, expert: e, mode: 'disable' }]);
    assert.equal(state.rules.length, 1);
    const steered = await routing(s, uri);
    assert.equal(steered.steered, true);
    for (let t = 0; t < steered.tokens; t++) for (let k = 0; k < K; k++) assert.notEqual(steered.experts[(t * L + 1) * K + k], e);
    assert.deepEqual(steered.baselineExperts, base.experts);
    await setRules(s, []);
    const again = await routing(s, uri);
    assert.equal(again.steered, false);
    assert.deepEqual(again.experts, base.experts);
    assert.deepEqual(again.weights, base.weights);
    assert.deepEqual(again.surprisal, base.surprisal);
  });

  it('invalid rules are refused with InvalidParams naming the rule, and the state is unchanged', async () => {
    await setRules(s, [{ layer: 0, expert: 2, mode: 'force' }]);
    await assert.rejects(setRules(s, [{ layer: 0, expert: 99, mode: 'disable' }]), (e: { code: number; message: string }) => e.code === -32602 && /rule 0 .*expert 99 does not exist/.test(e.message));
    await assert.rejects(setRules(s, [{ layer: 0, expert: 1, mode: 'force' }, { layer: 0, expert: 2, mode: 'force' }, { layer: 0, expert: 3, mode: 'force' }]), /more forced experts in layer 0/);
    await assert.rejects(setRules(s, [{ layer: 0, expert: 1, mode: 'amplify' }]), /unknown mode "amplify"/);
    const st = await s.conn.sendRequest(Methods.getSteering);
    assert.deepEqual(st.rules, [{ layer: 0, expert: 2, mode: 'force' }]);
    await setRules(s, []);
  });

  it('bad input: empty document, NUL bytes, lone surrogates, a 5 MB document', async () => {
    const cases: [string, string][] = [['file:///empty.txt', ''], ['file:///nul.bin', 'a\u0000b\u0000\u0000c'], ['file:///lone.txt', 'x\ud800y\udc00z']];
    for (const [u, t] of cases) {
      s.open(u, t);
      const r = await routing(s, u);
      checkInvariants(r, t);
    }
    const big = 'lorem ipsum dolor sit amet, 12345 '.repeat(160_000); // ~5.4 MB
    s.open('file:///big.txt', big);
    const started = Date.now();
    const r = await routing(s, 'file:///big.txt');
    assert.equal(r.truncated, true);
    assert.equal(r.tokens, 4096);
    checkInvariants(r, big);
    console.log(`      5 MB document: ${r.tokens} tokens analysed in ${Date.now() - started} ms (truncated)`);
  });

  it('hover on a truncated document says so', async () => {
    const h = await s.conn.sendRequest<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri: 'file:///big.txt' }, position: { line: 0, character: 1 } });
    assert.ok(h, 'no hover');
    assert.match(h.contents.value, /Only the first 4096 tokens were analysed/);
    assert.match(h.contents.value, /analysed in 8 windows/);
  });

  it('incremental edits give the same routing as the same text opened fresh (each document analysed alone)', async () => {
    const a = 'file:///incremental.txt';
    s.open(a, 'hello world\nsecond line\n');
    await routing(s, a);
    const v = s.edit(a, { start: { line: 1, character: 0 }, end: { line: 1, character: 6 } }, 'third');
    const edited = await routing(s, a);
    assert.equal(edited.version, v);
    s.open('file:///fresh.txt', 'hello world\nthird line\n');
    const fresh = await routing(s, 'file:///fresh.txt');
    checkInvariants(edited, 'hello world\nthird line\n');
    assert.deepEqual(edited.ids, fresh.ids);
    assert.deepEqual(edited.offsets, fresh.offsets);
    assert.deepEqual(edited.experts, fresh.experts);
  });

  it('notifications: statusChanged reports the ready model, routingChanged names the uri and the newest version', async () => {
    assert.ok(s.statuses.some((st) => st.state === 'loading'), 'no loading status');
    const ready = s.statuses.find((st) => st.state === 'ready' && st.model);
    assert.equal(ready?.model?.layers, 4);
    const v = s.change(uri, `${text}# notified\n`);
    for (let i = 0; i < 200 && !s.routingChanged.some((n) => n.uri === uri && n.version === v); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(s.routingChanged.some((n) => n.uri === uri && n.version === v), 'no routingChanged for the new version');
    const last = s.statuses[s.statuses.length - 1];
    assert.equal(last.lastAnalysis?.uri, uri);
  });

  it('hover under steering shows the unsteered experts beside the steered ones', async () => {
    const r = await routing(s, uri);
    const { layers: L, topK: K } = r.model;
    const t = 2;
    const e = r.experts[(t * L + 0) * K]; // top-1 of token t at layer 0
    await setRules(s, [{ layer: 0, expert: e, mode: 'disable' }]);
    try {
      const pos = { line: 0, character: r.offsets[2 * t] }; // token t is on the first line ("import math")
      const h = await s.conn.sendRequest<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position: pos });
      assert.match(h.contents.value, /\| layer \| experts \(weight\) \| unsteered \| entropy \|/);
      const row0 = h.contents.value.split('\n').find((l) => l.startsWith('| 0 |'))!;
      assert.doesNotMatch(row0.split('|')[2], new RegExp(`E${e} `));
      assert.match(row0.split('|')[3], new RegExp(`E${e}\\b`));
      assert.match(row0, /\(changed\)/);
    } finally {
      await setRules(s, []);
    }
  });

  it('moeLens/generate and moeLens/expertLabels are served by the running server', async () => {
    const g = await s.conn.sendRequest<{ baseline: string; steered: string; firstDivergence: number }>('moeLens/generate', { uri, offset: text.indexOf('return'), maxNewTokens: 8 });
    assert.equal(typeof g.baseline, 'string');
    assert.ok(g.baseline.length > 0);
    assert.equal(g.baseline, g.steered); // no steering active: identical, greedy
    assert.equal(g.firstDivergence, -1);
    const labels = await s.conn.sendRequest<string[][] | null>('moeLens/expertLabels');
    assert.ok(labels && labels.length === 4 && labels[0].length === 16 && labels[0].every((l) => typeof l === 'string' && l.length > 0));
  });

  it('requests for documents that are not open fail clearly', async () => {
    await assert.rejects(routing(s, 'file:///not-open.txt'), /not open/);
  });
});

describe('language server with a broken model directory', function () {
  let s: TestServer;
  const broken = mkdtempSync(join(tmpdir(), 'moe-lens-lsp-broken-'));
  cpSync(embeddedModel, broken, { recursive: true });
  writeFileSync(join(broken, 'model.onnx'), 'garbage');

  before(async () => {
    s = new TestServer();
    await s.start({ modelPath: broken });
  });
  after(() => s.stop());

  it('reports the error in its status, answers requests with it, and stays up', async () => {
    const st = await s.settled();
    assert.equal(st.state, 'error');
    assert.match(st.message ?? '', /model\.onnx/);
    assert.ok(s.messages.some((m) => /the model could not be loaded.*model\.onnx/.test(m)), 'no error notification');
    s.open('file:///a.txt', 'hello');
    await assert.rejects(routing(s, 'file:///a.txt'), /model\.onnx/);
    assert.equal(s.proc.exitCode, null);
    const h = await s.conn.sendRequest('textDocument/hover', { textDocument: { uri: 'file:///a.txt' }, position: { line: 0, character: 1 } });
    assert.equal(h, null);
  });

  it('recovers when the setting points back to a good model', async () => {
    // this client does not offer workspace/configuration, so the settings travel in the notification
    await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: { moeLens: { modelPath: '', executionProvider: 'cpu', maxTokens: 4096 } } });
    let st = await s.conn.sendRequest(Methods.getStatus);
    for (let i = 0; i < 200 && st.state !== 'ready'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      st = await s.conn.sendRequest(Methods.getStatus);
    }
    assert.equal(st.state, 'ready');
    const r = await routing(s, 'file:///a.txt');
    assert.ok(r.tokens > 0);
  });
});

describe('language server with pulled configuration (workspace/configuration)', function () {
  let s: TestServer;
  before(async () => {
    s = new TestServer();
    await s.start({}, { pullConfiguration: true });
    assert.equal((await s.settled()).state, 'ready');
  });
  after(() => s.stop());

  it('didChangeConfiguration pulls the "moeLens" section: a smaller maxTokens truncates', async () => {
    const u = 'file:///pulled.txt';
    const body = 'one two three four five six seven eight nine ten eleven twelve\n';
    s.open(u, body);
    assert.equal((await routing(s, u)).truncated, false);
    s.configuration = { modelPath: '', executionProvider: 'cpu', maxTokens: 5 };
    await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    let r = await routing(s, u);
    for (let i = 0; i < 100 && !r.truncated; i++) {
      await new Promise((res) => setTimeout(res, 50));
      r = await routing(s, u);
    }
    assert.equal(r.truncated, true);
    assert.equal(r.tokens, 5);
    checkInvariants(r, body);
  });
});

// `npm run test:reliability` (also part of `npm test`): issue 12's reliability suite, seeded and small enough for CI —
// a few hundred fuzzed documents, every malformed-request case with its expected code, every hostile model directory,
// kill -9 of the server and a restart by a client, and an edit burst. No timing is asserted: only that nothing
// crashes, nothing hangs (mocha's timeout), every answer satisfies the routing invariants and is for the newest text.
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { Methods, SteeringMethods, type RoutingResult } from '../../common/protocol';
import { mulberry32 } from '../../server/steering/prng';
import { fuzzDocuments, fuzzEdit } from '../support/fuzzText';
import { brokenGraphDir, confinementCases } from '../support/hostileModels';
import { checkInvariants } from '../support/invariants';
import { TestServer } from '../lsp/client';

type Err = { code: number; message: string };
const SEED = 12;
const routing = (s: TestServer, uri: string) => s.conn.sendRequest(Methods.routing.method, { textDocument: { uri } }) as Promise<RoutingResult>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const outcome = (p: Promise<unknown>) => p.then(() => undefined, (e: Err) => e);

describe('reliability suite (issue 12)', function () {
  this.timeout(300000);
  let s: TestServer;
  let stderr = '';
  before(async () => {
    s = new TestServer();
    s.proc.stderr!.on('data', (d) => (stderr += d));
    await s.start();
    assert.equal((await s.settled()).state, 'ready');
  });
  after(() => s.stop());
  afterEach(() => assert.equal(s.proc.exitCode, null, `the server exited: ${stderr.slice(-2000)}`));

  it('300 fuzzed documents: every result tiles its text; hovers anywhere answer or return null', async () => {
    const next = fuzzDocuments(SEED);
    const rnd = mulberry32(SEED + 1);
    for (let i = 0; i < 300; i++) {
      const uri = `file:///fuzz/${i}.txt`;
      const text = next();
      s.open(uri, text);
      const r = await routing(s, uri);
      checkInvariants(r, text);
      const doc = TextDocument.create(uri, 'plaintext', 1, text);
      const pos = doc.positionAt(Math.floor(rnd() * (text.length + 1)));
      await s.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: pos });
      void s.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
    }
  });

  it('every malformed request gets its expected error code', async () => {
    const uri = 'file:///malformed.txt';
    s.open(uri, 'hello world');
    await routing(s, uri);
    const P = -32602; // InvalidParams
    const cases: [string, unknown, number][] = [
      [Methods.routing.method, undefined, P],
      [Methods.routing.method, null, P],
      [Methods.routing.method, [], P],
      [Methods.routing.method, { textDocument: null }, P],
      [Methods.routing.method, { textDocument: { uri: 'file:///nope' } }, P],
      [Methods.routing.method, { textDocument: { uri }, encoding: 'xml' }, P],
      ['textDocument/hover', { textDocument: { uri } }, P],
      ['textDocument/hover', { textDocument: { uri: 'file:///nope' }, position: { line: 0, character: 0 } }, P],
      ['textDocument/hover', { textDocument: { uri }, position: { line: 1.5, character: 0 } }, P],
      [Methods.setSteering.method, { rules: null }, P],
      [Methods.setSteering.method, { rules: [{ layer: 9, expert: 0, mode: 'disable' }] }, P],
      [Methods.setSteering.method, { rules: [{ layer: 0, expert: 0, mode: 'bias', bias: 1e39 }] }, P],
      [Methods.setSteering.method, { rules: Array.from({ length: 16 }, (_, e) => ({ layer: 1, expert: e, mode: 'disable' })) }, P],
      [Methods.setSteering.method, { rules: [{ layer: 0, expert: 0, mode: 'mute' }] }, P],
      [SteeringMethods.generate.method, { uri: 'file:///nope', offset: 0 }, P],
      [SteeringMethods.generate.method, { uri, offset: -1 }, P],
      [SteeringMethods.generate.method, { uri, offset: 3, temperature: -1 }, P],
      [SteeringMethods.nextTokenChange.method, { uri, offset: 1e9 }, P],
      [Methods.expertUsage.method, { uri: 42 }, P],
      [SteeringMethods.contrastive.method, { setA: [], setB: [{ text: 'x' }] }, P],
      [SteeringMethods.contrastive.method, { setA: [{ uri: 'file:///dev/zero' }], setB: [{ text: 'x' }] }, P],
      [SteeringMethods.contrastive.method, { setA: [{ uri: 'file:///etc/../does/not/exist' }], setB: [{ text: 'x' }] }, P],
      ['moeLens/noSuchMethod', {}, -32601], // MethodNotFound
    ];
    for (const [method, params, code] of cases) {
      const e = await outcome(params === undefined ? s.conn.sendRequest(method) : s.conn.sendRequest(method, params));
      assert.ok(e, `${method} ${JSON.stringify(params)} succeeded`);
      assert.equal(e.code, code, `${method} ${JSON.stringify(params)}: ${e.code} ${e.message}`);
      assert.doesNotMatch(e.message, /TypeError|Cannot read properties|undefined is not/, `${method}: ${e.message}`);
    }
    // malformed notifications are ignored, and the server still answers
    for (const p of [undefined, null, {}, { uri: 5 }, { uri, ranges: 'x' }, { uri, ranges: [[-1, 2]] }]) void s.conn.sendNotification(Methods.visibleRanges.method, p);
    assert.equal((await routing(s, uri)).version, 1);
    assert.deepEqual((await s.conn.sendRequest<{ rules: unknown[] }>(Methods.getSteering.method)).rules, [], 'refused rules left the state unchanged');
  });

  it('every hostile model directory is an error naming its file; the server stays up and recovers', async () => {
    const dirs: [string, string, string][] = [
      ...confinementCases.map(([name, make, file]) => [name, make(), file] as [string, string, string]),
      ['NaN gate weights', brokenGraphDir('nanWeights'), 'model.onnx'],
      ['expert id 99', brokenGraphDir('id99'), 'model.onnx'],
      ['expert id −1', brokenGraphDir('idMinus1'), 'model.onnx'],
    ];
    const change = (modelPath: string) => s.conn.sendNotification('workspace/didChangeConfiguration', { settings: { moeLens: { modelPath, executionProvider: 'cpu', maxTokens: 4096 } } });
    for (const [name, dir, file] of dirs) {
      await change(dir);
      let st = await s.conn.sendRequest<{ state: string; message?: string; modelPath?: string }>(Methods.getStatus.method);
      for (let i = 0; i < 400 && (st.state !== 'error' && st.state !== 'ready' || st.modelPath !== dir); i++) {
        await sleep(50);
        st = await s.conn.sendRequest(Methods.getStatus.method);
      }
      assert.equal(st.state, 'error', `${name}: ${st.state}`);
      assert.ok(st.message?.includes(file), `${name}: "${st.message}" does not name ${file}`);
      assert.doesNotMatch(st.message ?? '', /root:x|secret text/);
    }
    await change('');
    for (let i = 0; i < 400 && (await s.conn.sendRequest<{ state: string }>(Methods.getStatus.method)).state !== 'ready'; i++) await sleep(50);
    const uri = 'file:///after-hostile.txt';
    s.open(uri, 'back to the embedded model');
    checkInvariants(await routing(s, uri), 'back to the embedded model');
  });

  it('an edit burst: 200 random edits with routing requests in between; the final answer is for the last text', async () => {
    const uri = 'file:///burst.txt';
    const next = fuzzDocuments(SEED + 2, 3000);
    const rnd = mulberry32(SEED + 3);
    let doc = TextDocument.create(uri, 'plaintext', 1, next() + next());
    s.open(uri, doc.getText());
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      const text = doc.getText();
      const e = fuzzEdit(rnd, text, next);
      const range = { start: doc.positionAt(e.start), end: doc.positionAt(e.end) };
      const v = s.edit(uri, range, e.insert);
      doc = TextDocument.update(doc, [{ range, text: e.insert }], v);
      if (i % 10 === 0) {
        const expectText = doc.getText();
        const expectVersion = v;
        pending.push(
          routing(s, uri).then((r) => {
            assert.ok(r.version >= expectVersion, `an answer for version ${r.version} after version ${expectVersion} was sent`);
            if (r.version === expectVersion) checkInvariants(r, expectText);
          }, (err: Err) => assert.equal(err.code, -32800, err.message)), // RequestCancelled is allowed, nothing else
        );
      }
      if (i % 7 === 0) await sleep(1);
    }
    await Promise.all(pending);
    const final = await routing(s, uri);
    assert.equal(final.version, doc.version);
    checkInvariants(final, doc.getText());
  });

  it('kill -9 of the server, then a client starts a new one that serves at once', async () => {
    const victim = new TestServer();
    await victim.start();
    assert.equal((await victim.settled()).state, 'ready');
    victim.open('file:///k.txt', 'before the kill');
    await routing(victim, 'file:///k.txt');
    const gone = new Promise<NodeJS.Signals | null>((r) => victim.proc.on('exit', (_c, sig) => r(sig)));
    victim.proc.kill('SIGKILL');
    assert.equal(await gone, 'SIGKILL');
    victim.conn.dispose();
    // what a client (vscode-languageclient) does: start a fresh process and replay the open documents
    const again = new TestServer();
    try {
      await again.start();
      assert.equal((await again.settled()).state, 'ready');
      again.open('file:///k.txt', 'before the kill, and after');
      checkInvariants(await routing(again, 'file:///k.txt'), 'before the kill, and after');
    } finally {
      await again.stop();
    }
  });
});

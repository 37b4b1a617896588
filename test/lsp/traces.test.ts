import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CancellationTokenSource } from 'vscode-languageserver-protocol/node';
import { CloseTraceRequest, Methods, OpenTraceRequest, StatsProgressNotification, StatsRequest, type RoutingResult, type StatsProgress, type StatsResult } from '../../common/protocol';
import { unpackRouting } from '../../common/routingCodec';
import { repoRoot } from '../support/paths';
import { TestServer } from './client';

const fixtures = join(repoRoot, 'test', 'fixtures', 'traces');
const routing = async (s: TestServer, uri: string): Promise<RoutingResult> => unpackRouting(await s.conn.sendRequest(Methods.routing, { textDocument: { uri } }));
type Hover = { contents: { value: string } } | null;
const hover = (s: TestServer, uri: string, line: number, character: number) => s.conn.sendRequest<Hover>('textDocument/hover', { textDocument: { uri }, position: { line, character } });

describe('engine traces and routing statistics over LSP', function () {
  let s: TestServer;
  const uri = 'file:///trace/sample.py';
  const text = readFileSync(join(fixtures, 'sample.py'), 'utf8');
  const progress: StatsProgress[] = [];

  before(async () => {
    s = new TestServer();
    s.conn.onNotification(StatsProgressNotification, (p) => void progress.push(p));
    await s.start();
    assert.equal((await s.settled()).state, 'ready');
    s.open(uri, text, 'python');
  });
  after(() => s.stop());

  it('moeLens/openTrace: routing and hover come from the trace; what it lacks says "not in the trace"', async () => {
    const model = await routing(s, uri);
    const before = s.routingChanged.length;
    const opened = await s.conn.sendRequest(OpenTraceRequest, { uri, path: join(fixtures, 'vllm.json') });
    assert.deepEqual(opened, { engine: 'vllm', tokens: model.tokens, notRecorded: 0 });
    assert.ok(s.routingChanged.slice(before).some((n) => n.uri === uri && n.version === 1), 'routingChanged after openTrace');
    const r = await routing(s, uri);
    assert.equal(r.source?.engine, 'vllm');
    assert.deepEqual(r.absent, ['weights', 'entropy', 'surprisal']);
    assert.deepEqual(r.experts, model.experts); // the fixture holds the embedded model's own routing
    const h = await hover(s, uri, 0, 5);
    assert.ok(h);
    assert.match(h.contents.value, /surprisal not in the trace/);
    assert.match(h.contents.value, /\| 0 \| E\d+[^|]*, E\d+[^|]* \| not in the trace \|/);
    assert.match(h.contents.value, /Routing recorded by a serving engine \(vLLM trace vllm\\.json\)/);
    assert.doesNotMatch(h.contents.value, /\(0\.00\)|bits/);
  });

  it('prefix-cached positions hover as "not recorded"; an SGLang trace of the same text routes the same', async () => {
    const cached = await s.conn.sendRequest(OpenTraceRequest, { uri, path: join(fixtures, 'vllm-prefix-cached.json') });
    assert.equal(cached.notRecorded, 16);
    assert.match((await hover(s, uri, 0, 1))!.contents.value, /Routing \*\*not recorded\*\*/);
    const v = await routing(s, uri);
    await s.conn.sendRequest(OpenTraceRequest, { uri, path: join(fixtures, 'sglang.json') });
    const g = await routing(s, uri);
    assert.equal(g.source?.engine, 'sglang');
    const per = g.model.layers * g.model.topK;
    assert.deepEqual(g.experts.slice(16 * per), v.experts.slice(16 * per));
  });

  it('a trace of another text is refused with the first differing token; a missing file with its path', async () => {
    const other = 'file:///trace/other.py';
    s.open(other, 'print("hello")\n', 'python');
    await assert.rejects(s.conn.sendRequest(OpenTraceRequest, { uri: other, path: join(fixtures, 'vllm.json') }), (e: Error & { code?: number }) => e.code === -32602 && /vllm\.json: token 0 differs/.test(e.message));
    await assert.rejects(s.conn.sendRequest(OpenTraceRequest, { uri: other, path: join(fixtures, 'none.json') }), /none\.json: cannot read the trace/);
    assert.equal((await routing(s, other)).source, undefined);
  });

  it('moeLens/stats counts a traced document from its trace (no p_i, no entropy) and reports progress', async () => {
    progress.length = 0;
    const st: StatsResult = await s.conn.sendRequest(StatsRequest, { uris: [uri], progressId: 'p1' });
    assert.deepEqual(st.traced, [uri]);
    assert.equal(st.layers.length, 4);
    assert.equal(st.layers[0].meanProb, null);
    assert.equal(st.layers[0].meanEntropy, null);
    assert.equal(st.tokens, 64); // the SGLang trace records every token
    assert.ok(progress.some((p) => p.id === 'p1' && p.done === 1 && p.total === 1));
  });

  it('moeLens/closeTrace and an edit both give routing back to the model', async () => {
    assert.equal(await s.conn.sendRequest(CloseTraceRequest, { uri }), true);
    assert.equal((await routing(s, uri)).source, undefined);
    assert.equal(await s.conn.sendRequest(CloseTraceRequest, { uri }), false);
    await s.conn.sendRequest(OpenTraceRequest, { uri, path: join(fixtures, 'vllm.json') });
    const v = s.change(uri, `${text}# edited\n`);
    const r = await routing(s, uri);
    assert.equal(r.version, v);
    assert.equal(r.source, undefined);
    assert.ok(r.weights.some((w) => w > 0));
  });

  it('moeLens/stats over the profile corpus: p_i and LBL; a cancelled request ends with RequestCancelled', async () => {
    const st: StatsResult = await s.conn.sendRequest(StatsRequest, { profileCorpus: true });
    assert.equal(st.files.length, 5);
    for (const l of st.layers) {
      assert.ok(l.meanProb && Math.abs(l.meanProb.reduce((a, b) => a + b, 0) - 1) < 1e-6);
      assert.ok(l.lbl !== null && Math.abs(l.lbl - 16 * l.load.reduce((a, f, e) => a + f * l.meanProb![e], 0)) < 1e-9);
    }
    const cts = new CancellationTokenSource();
    const pending = s.conn.sendRequest(StatsRequest, { profileCorpus: true }, cts.token);
    setTimeout(() => cts.cancel(), 200);
    await assert.rejects(pending, (e: Error & { code?: number }) => e.code === -32800);
    await assert.rejects(s.conn.sendRequest(StatsRequest, {}), /nothing to count/);
    await assert.rejects(s.conn.sendRequest(StatsRequest.method), /nothing to count/); // no params at all
    await assert.rejects(s.conn.sendRequest(StatsRequest, { uris: ['untitled:nope'] }), /untitled:nope is neither open nor a file: uri/);
  });
});

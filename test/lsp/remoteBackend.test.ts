// The remote-engine backend end to end: the real server over stdio, set to moeLens.backend vllm / sglang, against
// an engine fixture on 127.0.0.1 in this process (test/lsp/engineFixture.ts). No traffic leaves the machine.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Methods, StatsRequest, type RoutingResult } from '../../common/protocol';
import { MoeTokenizer } from '../../server/model/tokenizer';
import { unpackRouting } from '../../common/routingCodec';
import { embeddedModel } from '../support/paths';
import { TestServer } from './client';
import { EngineFixture, FIXTURE, fixtureExpert } from './engineFixture';

const routing = async (s: TestServer, uri: string): Promise<RoutingResult> => unpackRouting(await s.conn.sendRequest(Methods.routing, { textDocument: { uri } }));
const status = (s: TestServer) => s.conn.sendRequest(Methods.getStatus);
const tokenizerFile = join(embeddedModel, 'tokenizer.json');
/** short timeouts so that a timeout test takes a second, not a minute */
const fastEnv = { MOE_LENS_REMOTE_TIMEOUT_MS: '400', MOE_LENS_REMOTE_RETRIES: '1' };

/** The routing the fixture engine computes for these ids, token-major like RoutingResult.experts. */
function expectedExperts(ids: number[]): number[] {
  return ids.flatMap((id) => Array.from({ length: FIXTURE.layers }, (_, l) => Array.from({ length: FIXTURE.topK }, (_, k) => fixtureExpert(id, l, k))).flat());
}

async function until<T>(f: () => Promise<T | undefined>, what: string, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A port that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const text = 'def area(r):\n    return 3.14159 * r ** 2  # 😀 naïve\n';

describe('remote engine backend over LSP', function () {
  this.timeout(60000);
  let local: MoeTokenizer;
  before(async () => {
    local = await MoeTokenizer.fromFile(tokenizerFile);
  });

  describe('vLLM (tokenised by its /tokenize)', () => {
    let engine: EngineFixture;
    let s: TestServer;
    let engineUrl: string;
    const uri = 'file:///remote/a.py';
    before(async () => {
      engine = new EngineFixture('vllm', tokenizerFile);
      const url = (engineUrl = await engine.listen());
      s = new TestServer(fastEnv);
      await s.start({ backend: 'vllm', remote: { url, model: 'fixture-moe' } });
      const st = await s.settled();
      assert.equal(st.state, 'ready', st.message);
    });
    after(async () => {
      await s.stop();
      await engine.close();
    });

    it('routes a document: the engine\'s ids, exact UTF-16 offsets, expert ids; weights, entropy, surprisal absent', async () => {
      s.open(uri, text, 'python');
      const r = await routing(s, uri);
      const enc = local.encode(text);
      assert.deepEqual(r.ids, enc.ids);
      assert.deepEqual(r.offsets, enc.offsets);
      assert.deepEqual(r.experts, expectedExperts(enc.ids));
      assert.deepEqual(r.absent, ['weights', 'entropy', 'surprisal']);
      assert.deepEqual(r.source, { kind: 'trace', engine: 'vllm', file: engineUrl });
      assert.deepEqual(r.notRecorded, []);
      assert.equal(r.model.layers, FIXTURE.layers);
      assert.equal(r.model.topK, FIXTURE.topK);
      assert.equal(r.model.name, 'fixture-moe');
      const sent = engine.requests.filter((q) => q.path === '/v1/completions').at(-1)!.body;
      assert.deepEqual(sent.prompt, enc.ids);
      assert.equal(sent.max_tokens, 1);
      assert.equal(sent.model, 'fixture-moe');
    });

    it('the status names the engine and what it can do', async () => {
      const st = await status(s);
      assert.equal(st.backend?.kind, 'vllm');
      assert.equal(st.backend?.capabilities.gateWeights, false);
      assert.deepEqual(st.backend?.capabilities.steering, []);
      // without config.json the shape comes from the engine's answers: each new one arrives as a new info in the
      // status (the backend's info is never mutated in place), so after the document above the status knows its experts
      const seen = Math.max(...expectedExperts(local.encode(text).ids)) + 1;
      assert.equal(st.model?.layers, FIXTURE.layers);
      assert.equal(st.model?.topK, FIXTURE.topK);
      assert.ok((st.model?.experts ?? 0) >= seen, `status says ${st.model?.experts} experts, the document used ${seen}`);
    });

    it('hover says what the trace lacks instead of showing zeros', async () => {
      const h = await s.conn.sendRequest<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 5 } });
      assert.match(h.contents.value, /surprisal not in the trace/);
      assert.match(h.contents.value, /gate weights, entropy and surprisal are not in the trace/);
      assert.doesNotMatch(h.contents.value, /\(0\.00\)/);
    });

    it('routing statistics of an engine-routed document: load from the expert ids, no router probabilities or entropy', async () => {
      const st = await s.conn.sendRequest(StatsRequest, { uris: [uri] });
      const ids = local.encode(text).ids;
      assert.equal(st.tokens, ids.length);
      const l0 = st.layers[0];
      assert.equal(l0.meanProb, null);
      assert.equal(l0.lbl, null);
      assert.equal(l0.meanEntropy, null);
      // load: share of layer 0's top-k slots per expert, counted from the fixture's formula
      const counts = new Array<number>(FIXTURE.experts).fill(0);
      for (const id of ids) for (let k = 0; k < FIXTURE.topK; k++) counts[fixtureExpert(id, 0, k)]++;
      assert.deepEqual(l0.load.map((x) => +x.toFixed(12)), counts.map((c) => +(c / (ids.length * FIXTURE.topK)).toFixed(12)));
    });

    it('steering is refused with the reason', async () => {
      await assert.rejects(s.conn.sendRequest(Methods.setSteering, { rules: [{ layer: 0, expert: 1, mode: 'disable' }] }), /steering is not available: vLLM takes no per-request expert masks/);
      assert.deepEqual((await s.conn.sendRequest(Methods.getSteering)).rules, []);
    });

    it('the .npy form of choices[0].routed_experts (vLLM main) gives the same routing', async () => {
      engine.vllmShape = 'npy';
      try {
        const u = 'file:///remote/npy.py';
        s.open(u, text, 'python');
        const r = await routing(s, u);
        assert.deepEqual(r.experts, expectedExperts(local.encode(text).ids));
      } finally {
        engine.vllmShape = 'nested';
      }
    });

    it('prefix-cached rows (-1) are filled from the previous answer of the same prefix; others are "not recorded"', async () => {
      engine.prefixCache = true;
      try {
        // an edit: the engine recomputes only the tokens after the cached prefix, the backend has the rest
        const u = 'file:///remote/cached.py';
        const first = 'def f(x):\n    return x + 1\n';
        s.open(u, first, 'python');
        await routing(s, u);
        const second = `${first}print(f(2))\n`;
        const v = s.change(u, second);
        const r = await until(async () => {
          const x = await routing(s, u);
          return x.version === v ? x : undefined;
        }, 'the edited version');
        assert.ok(engine.lastCached >= local.encode(first).ids.length - 1, `the engine recomputed all but ${engine.lastCached} tokens`);
        assert.deepEqual(r.notRecorded, []);
        assert.deepEqual(r.experts, expectedExperts(local.encode(second).ids));
        // a prefix another client sent: no earlier answer here has it, so it is shown as not recorded
        const other = 'import os\nimport sys\n';
        engine.remember(local.encode(other).ids);
        const u2 = 'file:///remote/other.py';
        s.open(u2, `${other}os.exit(0)\n`, 'python');
        const r2 = await routing(s, u2);
        const n = local.encode(other).ids.length;
        assert.deepEqual(r2.notRecorded, Array.from({ length: n }, (_, t) => t));
        const h = await s.conn.sendRequest<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri: u2 }, position: { line: 0, character: 2 } });
        assert.match(h.contents.value, /Routing \*\*not recorded\*\* for this token by the engine/);
      } finally {
        engine.prefixCache = false;
      }
    });

    it('a stale request is aborted when the document changes, and the new version is routed', async () => {
      const u = 'file:///remote/stale.py';
      engine.mode = 'slow';
      engine.slowMs = 4000;
      const before = engine.aborted;
      const routed = engine.requests.length;
      s.open(u, 'x = 1\n', 'python');
      // the first version's routing request reaches the engine, then the document changes
      await until(async () => (engine.requests.slice(routed).some((q) => q.path === '/v1/completions') ? true : undefined), 'the first request');
      engine.mode = 'normal';
      const v = s.change(u, 'x = 2\ny = 3\n');
      const r = await until(async () => {
        const x = await routing(s, u).catch(() => undefined);
        return x && x.version === v ? x : undefined;
      }, 'the new version');
      assert.deepEqual(r.ids, local.encode('x = 2\ny = 3\n').ids);
      await until(async () => (engine.aborted > before ? true : undefined), 'the engine to see the stale request closed', 3000);
    });

    it('an engine that stops answering: a timeout names the engine, other requests are answered meanwhile, and it recovers', async () => {
      const u = 'file:///remote/hang.py';
      engine.mode = 'hang';
      s.open(u, 'while True:\n    pass\n', 'python');
      let settled = false;
      const pending = routing(s, u).finally(() => (settled = true));
      // the server answers other requests while the engine does not: getSteering comes back before the routing
      // request has its answer (the engine's time-out), whatever the machine's speed
      assert.deepEqual((await s.conn.sendRequest(Methods.getSteering)).rules, []);
      assert.equal(settled, false, 'getSteering was answered only after the routing request gave up on the engine');
      await assert.rejects(pending, /vLLM at http:\/\/127\.0\.0\.1:\d+: no answer within 400 ms \(2 tries\)/);
      const st = await until(async () => {
        const x = await status(s);
        return x.state === 'error' ? x : undefined;
      }, 'the error status');
      assert.match(st.message ?? '', /^vLLM at http:\/\/127\.0\.0\.1:\d+: no answer within 400 ms/);
      assert.equal(st.backend?.kind, 'vllm');
      // the engine answers again: the next edit is routed and the status is ready
      engine.mode = 'normal';
      const v = s.change(u, 'while False:\n    pass\n');
      const r = await until(async () => {
        const x = await routing(s, u).catch(() => undefined);
        return x && x.version === v ? x : undefined;
      }, 'routing after recovery');
      assert.equal(r.tokens, local.encode('while False:\n    pass\n').ids.length);
      assert.equal((await status(s)).state, 'ready');
    });
  });

  describe('SGLang (tokenised by the local tokenizer.json, shape from config.json)', () => {
    let engine: EngineFixture;
    let s: TestServer;
    let dir: string;
    before(async () => {
      engine = new EngineFixture('sglang', tokenizerFile);
      const url = await engine.listen();
      dir = mkdtempSync(join(tmpdir(), 'moe-lens-served-'));
      copyFileSync(tokenizerFile, join(dir, 'tokenizer.json'));
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['MixtralForCausalLM'], num_hidden_layers: FIXTURE.layers, num_experts_per_tok: FIXTURE.topK, num_local_experts: FIXTURE.experts, max_position_embeddings: 1024 }));
      s = new TestServer(fastEnv);
      await s.start({ backend: 'sglang', modelPath: dir, remote: { url, model: '' } });
      const st = await s.settled();
      assert.equal(st.state, 'ready', st.message);
    });
    after(async () => {
      await s.stop();
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('routes a document from meta_info.routed_experts (base64 int32 rows of layers × topK)', async () => {
      const uri = 'file:///remote/b.py';
      s.open(uri, text, 'python');
      const r = await routing(s, uri);
      const enc = local.encode(text);
      assert.deepEqual(r.ids, enc.ids);
      assert.deepEqual(r.offsets, enc.offsets);
      assert.deepEqual(r.experts, expectedExperts(enc.ids));
      assert.equal(r.model.experts, FIXTURE.experts);
      assert.equal(r.model.name, 'MixtralForCausalLM');
      assert.deepEqual(r.absent, ['weights', 'entropy', 'surprisal']);
      const sent = engine.requests.filter((q) => q.path === '/generate').at(-1)!.body;
      assert.deepEqual(sent.input_ids, enc.ids);
      assert.equal(sent.return_routed_experts, true);
      assert.deepEqual(sent.sampling_params, { max_new_tokens: 1, temperature: 0 });
      assert.equal(engine.requests.filter((q) => q.path === '/tokenize').length, 0, 'tokenised remotely despite a local tokenizer.json');
    });
  });

  describe('an engine that cannot be reached', () => {
    it('a refused connection: the status says which engine and why, the server keeps answering', async () => {
      const port = await closedPort();
      const s = new TestServer(fastEnv);
      try {
        await s.start({ backend: 'vllm', remote: { url: `http://127.0.0.1:${port}`, model: '' } });
        const st = await s.settled();
        assert.equal(st.state, 'error');
        assert.match(st.message ?? '', new RegExp(`moeLens\\.remote\\.url: vLLM at http://127\\.0\\.0\\.1:${port}: connection refused`));
        assert.equal(st.backend?.kind, 'vllm');
        const uri = 'file:///remote/c.py';
        s.open(uri, 'print(1)\n', 'python');
        await assert.rejects(routing(s, uri), /connection refused/);
        const h = await s.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 1 } });
        assert.equal(h, null);
        assert.deepEqual((await s.conn.sendRequest(Methods.getSteering)).rules, []);
      } finally {
        await s.stop();
      }
    });

    it('an engine started after the editor is connected on the next edit', async () => {
      const port = await closedPort();
      const s = new TestServer({ ...fastEnv, MOE_LENS_REMOTE_RECONNECT_MS: '0' });
      const engine = new EngineFixture('vllm', tokenizerFile);
      try {
        await s.start({ backend: 'vllm', remote: { url: `http://127.0.0.1:${port}`, model: '' } });
        assert.equal((await s.settled()).state, 'error');
        await engine.listen(port);
        const uri = 'file:///remote/late.py';
        s.open(uri, 'print(1)\n', 'python');
        const r = await until(async () => routing(s, uri).catch(() => undefined), 'routing once the engine is up');
        assert.deepEqual(r.experts, expectedExperts(local.encode('print(1)\n').ids));
        assert.equal((await status(s)).state, 'ready');
      } finally {
        await s.stop();
        await engine.close();
      }
    });

    it('an engine without routed experts is refused at load with the flag to set; an HTTP error names the engine\'s message', async () => {
      const engine = new EngineFixture('vllm', tokenizerFile);
      const url = await engine.listen();
      engine.mode = 'unrouted';
      const s = new TestServer({ ...fastEnv, MOE_LENS_REMOTE_RECONNECT_MS: '0' });
      try {
        await s.start({ backend: 'vllm', remote: { url, model: '' } });
        const st = await s.settled();
        assert.equal(st.state, 'error');
        assert.match(st.message ?? '', /vLLM at http:\/\/127\.0\.0\.1:\d+: prompt_routed_experts is missing or null: start vLLM with --enable-return-routed-experts/);
        engine.mode = 'fail';
        const before = engine.requests.filter((q) => q.path === '/v1/completions').length;
        const uri = 'file:///remote/fail.py';
        s.open(uri, 'print(2)\n', 'python'); // reconnects: the engine now fails with HTTP 500, retried
        await assert.rejects(routing(s, uri), /vLLM at http:\/\/127\.0\.0\.1:\d+: HTTP 500: CUDA out of memory \(2 tries\)/);
        // a 5xx may pass: tried again after a backoff (MOE_LENS_REMOTE_RETRIES=1 here)
        assert.ok(engine.requests.filter((q) => q.path === '/v1/completions').length - before >= 2);
      } finally {
        await s.stop();
        await engine.close();
      }
    });

    it('a URL that is not one is refused naming the setting', async () => {
      const s = new TestServer(fastEnv);
      try {
        await s.start({ backend: 'sglang', remote: { url: 'localhost 8000', model: '' } });
        const st = await s.settled();
        assert.equal(st.state, 'error');
        assert.match(st.message ?? '', /moeLens\.remote\.url: "localhost 8000" is not a URL/);
      } finally {
        await s.stop();
      }
    });
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createConnection, type Connection } from 'vscode-languageserver/node';
import { CancellationTokenSource, createProtocolConnection, ResponseError, type ProtocolConnection } from 'vscode-languageserver-protocol/node';
import {
  Methods,
  SteeringMethods,
  type ContrastiveResult,
  type ExpertLabels,
  type ExpertUsageResult,
  type GenerateProgress,
  type GenerateResult,
  type NextTokenChangeResult,
  type SteeringRule,
  StatsRequest,
} from '../../common/protocol';
import { ModelSession } from '../../server/model/modelSession';
import { ModelHost } from '../../server/lsp/modelHost';
import { createServer } from '../../server/lsp/server';
import { embeddedModel } from '../support/paths';

const DOC = 'file:///project/example.py';
const TEXT = 'import os\n\ndef main(argv):\n    for name in os.listdir(argv[1]):\n        print(name, len(name))\n';

// The real server (lsp/server.ts, as main.ts builds it) on an in-memory connection, and a real JSON-RPC client.
describe('steering requests over JSON-RPC', function () {
  let session: ModelSession | undefined;
  let server: Connection;
  let client: ProtocolConnection;
  let rules: SteeringRule[] = [];
  const progress: GenerateProgress[] = [];
  /** the server's steering state, set as the extension sets it */
  const setRules = async (next: SteeringRule[]) => {
    rules = (await client.sendRequest(Methods.setSteering, { rules: next })).rules;
  };
  before(async () => {
    const s = await ModelSession.load(embeddedModel, 'cpu');
    session = s;
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    server = createConnection(toServer, toClient);
    const cache = mkdtempSync(join(tmpdir(), 'moe-lens-req-'));
    // the embedded model loaded once above; any other folder through the real loader
    createServer(server, { host: new ModelHost(async (dir) => (dir === embeddedModel ? s : ModelSession.load(dir, 'cpu'))) });
    server.listen();
    client = createProtocolConnection(toClient, toServer);
    client.onNotification(SteeringMethods.generateProgress, (p: GenerateProgress) => {
      progress.push(p);
    });
    client.listen();
    await client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {}, initializationOptions: { modelPath: embeddedModel, executionProvider: 'cpu', maxTokens: 4096, cacheDir: cache } });
    void client.sendNotification('initialized', {});
    void client.sendNotification('textDocument/didOpen', { textDocument: { uri: DOC, languageId: 'python', version: 1, text: TEXT } });
  });
  const code = async (type: { method: string }, params: unknown) => {
    try {
      await client.sendRequest(type.method, params); // by name: these params are wrong on purpose
    } catch (e) {
      return [(e as ResponseError<void>).code, (e as Error).message];
    }
    return [0, 'no error'];
  };
  after(async () => {
    client.dispose();
    await session?.dispose();
  });

  it('moeLens/generate streams progress and returns both continuations', async () => {
    await setRules([{ layer: '*', expert: 0, mode: 'disable' }]);
    progress.length = 0;
    const r: GenerateResult = await client.sendRequest(SteeringMethods.generate, { uri: DOC, offset: TEXT.indexOf('print'), maxNewTokens: 6, progressId: 'p1' });
    assert.equal(r.id, 'p1');
    assert.deepEqual(r.rules, rules);
    assert.ok(r.tokens.baseline.length > 0 && r.tokens.steered.length > 0);
    assert.ok(progress.length >= 2 && progress.every((p) => p.id === 'p1'));
    const last = progress[progress.length - 1];
    assert.deepEqual([last.baseline, last.steered], [r.baseline, r.steered]);
  });

  it('moeLens/generate honours the request cancellation', async () => {
    await setRules([]);
    progress.length = 0;
    const cts = new CancellationTokenSource();
    client.onNotification(SteeringMethods.generateProgress, (p: GenerateProgress) => {
      progress.push(p);
      if (p.id === 'cancel-me') cts.cancel();
    });
    const started = Date.now();
    await assert.rejects(client.sendRequest(SteeringMethods.generate, { uri: DOC, offset: TEXT.length, maxNewTokens: 200, progressId: 'cancel-me' }, cts.token), (e: unknown) => {
      // the client side rejects at once with RequestCancelled; the server stops generating on its own token
      return e instanceof ResponseError && e.code === -32800;
    });
    await new Promise((r) => setTimeout(r, 300));
    const seen = progress.filter((p) => p.id === 'cancel-me').length;
    console.log(`      cancelled after ${seen} progress notifications, ${Date.now() - started} ms`);
    assert.ok(seen < 40, `generation went on after cancellation (${seen} notifications)`);
  });

  it('moeLens/nextTokenChange: top-3 each and KL', async () => {
    await setRules([{ layer: '*', expert: 3, mode: 'disable' }]);
    const r: NextTokenChangeResult = await client.sendRequest(SteeringMethods.nextTokenChange, { uri: DOC, offset: TEXT.indexOf('listdir') + 2 });
    assert.equal(r.baseline.length, 3);
    assert.ok(r.range[0] <= TEXT.indexOf('listdir') + 2 && TEXT.indexOf('listdir') + 2 < r.range[1]);
    assert.ok(r.klNats >= 0 && r.rulesActive);
    assert.ok(r.baseline[0].p >= r.baseline[1].p && typeof r.baseline[0].text === 'string');
  });

  it('moeLens/expertUsage and moeLens/expertLabels', async function () {
    this.timeout(180000);
    await setRules([]);
    const u: ExpertUsageResult = await client.sendRequest(Methods.expertUsage, { uri: DOC });
    assert.equal(u.active.length, session!.info.layers);
    for (const row of u.slots) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    const labels: ExpertLabels = await client.sendRequest(Methods.expertLabels);
    assert.ok(labels && labels.length === session!.info.layers && labels[0].length === session!.info.experts);
  });

  it('moeLens/contrastive on literal texts', async function () {
    this.timeout(180000);
    const r: ContrastiveResult = await client.sendRequest(SteeringMethods.contrastive, {
      setA: [{ text: TEXT.repeat(3) }],
      setB: [{ text: '# Title\n\nSome *markdown* text with a [link](https://example.com).\n'.repeat(3) }],
      n: 2,
      randomDraws: 2,
    });
    assert.equal(r.rows.length, session!.info.layers * session!.info.experts);
    assert.equal(r.disable.length, 2);
    assert.equal(r.measure.random.length, 2);
    assert.ok(r.rows[0].label, 'labels are attached when known');
  });

  it('errors name what is wrong', async () => {
    assert.deepEqual(await code(SteeringMethods.generate, { uri: 'file:///nope', offset: 0 }), [-32602, 'uri: document file:///nope is not open']);
    assert.deepEqual(await code(SteeringMethods.contrastive, { setA: [{ uri: 'untitled:Untitled-1' }], setB: [{ text: 'x' }] }), [-32602, 'setA[0]: document untitled:Untitled-1 is not open']);
    const [c, m] = await code(SteeringMethods.generate, { uri: DOC, offset: 1e6 });
    assert.equal(c, -32602);
    assert.match(m as string, /offset/);
    assert.match((await code(SteeringMethods.contrastive, { setA: [], setB: [{ text: 'x' }] }))[1] as string, /setA/);
    assert.match((await code(SteeringMethods.contrastive, { setA: [{ text: 'a b' }], setB: [{ text: 'x' }], n: 0 }))[1] as string, /n must be/);
  });

  it('one session accessor: while a load runs every request waits for it; after a failed load, ServerNotInitialized', async function () {
    this.timeout(180000);
    const missing = join(mkdtempSync(join(tmpdir(), 'moe-lens-req-')), 'no-model-here');
    void client.sendNotification('workspace/didChangeConfiguration', { settings: { moeLens: { modelPath: missing, executionProvider: 'cpu', maxTokens: 4096 } } });
    session = undefined; // the host releases the superseded embedded session itself
    // asked during the load (and after it failed): all answer alike, with the load's error
    const answers = await Promise.all([Methods.expertLabels, SteeringMethods.contrastive, StatsRequest].map((m) => code(m, m === SteeringMethods.contrastive ? { setA: [{ text: 'a' }], setB: [{ text: 'b' }] } : m === StatsRequest ? { uris: [DOC] } : undefined)));
    for (const [c, m] of answers) {
      assert.equal(c, -32002, String(m));
      assert.match(m as string, /the model is not loaded: .*no-model-here/);
    }
  });
});

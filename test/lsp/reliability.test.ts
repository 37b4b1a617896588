// Issue 12 over the real server process (node dist/server.js --stdio): items 1, 2, 7, 9, 10 and 11. Each `it`
// names its item and what happened before the fix.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Methods, SteeringMethods, type RoutingResult } from '../../common/protocol';
import { LABELS_FORMAT, labelCacheFile, labelCacheKey } from '../../server/steering/labelCache';
import { makeFifo, modelCopy, modelCopyWithoutLabels, releaseFifo } from '../support/hostileModels';
import { distDir, embeddedModel } from '../support/paths';
import { TestServer } from './client';

type Err = { code: number; message: string };
const routing = (s: TestServer, uri: string) => s.conn.sendRequest(Methods.routing.method, { textDocument: { uri } }) as Promise<RoutingResult>;
const hover = (s: TestServer, uri: string, line: number, character: number) => s.conn.sendRequest<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri }, position: { line, character } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const EVIL = '![pwn](https://evil.example/x.png) [login](https://evil.example/)';

/** The label cache key of the embedded model, computed as the server does (model sha256 + corpus + format). */
function embeddedLabelKey(): string {
  const manifest = JSON.parse(readFileSync(join(embeddedModel, 'moe.json'), 'utf8'));
  const sha = createHash('sha256').update(readFileSync(join(embeddedModel, 'model.onnx'))).digest('hex');
  // the model's identity: the graph's sha256 and its external weights' (server/model/modelSession.ts modelIdentity)
  const modelId = createHash('sha256').update(`${sha} ${String(manifest.provenance.dataSha256)}`).digest('hex');
  const corpus = Object.entries(manifest.profileCorpus.domains as Record<string, string>).map(([domain, f]) => ({ domain, text: readFileSync(join(embeddedModel, f), 'utf8') }));
  return labelCacheKey(modelId, corpus);
}

async function labelsInStatus(s: TestServer): Promise<string[][]> {
  for (let i = 0; i < 600; i++) {
    const l = (await s.conn.sendRequest<{ model?: { labels?: string[][] } }>(Methods.getStatus.method)).model?.labels;
    if (l) return l;
    await sleep(100);
  }
  throw new Error('no labels after 60 s');
}

describe('reliability over stdio (issue 12)', function () {
  this.timeout(180000);
  const uri = 'file:///r.py';
  const text = 'def area(r):\n    return 3.14 * r * r\n';

  // Item 1: a planted cache in the shared temp folder reached the hover as Markdown (image + link rendered).
  it('item 1: with no client folder, a cache planted in the temp folder is not read; with one, labels are escaped', async () => {
    const key = embeddedLabelKey();
    const manifest = JSON.parse(readFileSync(join(embeddedModel, 'moe.json'), 'utf8'));
    const evil = { format: LABELS_FORMAT, key, domains: Object.keys(manifest.profileCorpus.domains), labels: Array.from({ length: 4 }, () => Array.from({ length: 16 }, () => EVIL)) };
    // the old location and name (os.tmpdir()/moe-lens-cache/expert-labels-v5-<sha>.json) and the new name there too
    const sha = createHash('sha256').update(readFileSync(join(embeddedModel, 'model.onnx'))).digest('hex');
    const shared = join(tmpdir(), 'moe-lens-cache');
    mkdirSync(shared, { recursive: true });
    writeFileSync(join(shared, `expert-labels-v5-${sha}.json`), JSON.stringify({ modelId: sha, domains: evil.domains, labels: evil.labels, profiles: [] }));
    writeFileSync(labelCacheFile(shared, key), JSON.stringify(evil));
    const bare = new TestServer();
    try {
      await bare.start();
      assert.equal((await bare.settled()).state, 'ready');
      const labels = await labelsInStatus(bare);
      assert.ok(!labels.flat().includes(EVIL), 'labels came from the planted file');
    } finally {
      await bare.stop();
    }
    // A client folder with a well-formed file for the right key: trusted as labels, but shown as text. The cache is
    // read only for a model that ships no labels of its own: a copy of the embedded model without them (same key).
    const clientDir = mkdtempSync(join(tmpdir(), 'moe-lens-storage-'));
    writeFileSync(labelCacheFile(clientDir, key), JSON.stringify(evil));
    const s = new TestServer();
    try {
      await s.start({ cacheDir: clientDir, modelPath: modelCopyWithoutLabels() } as object);
      assert.equal((await s.settled()).state, 'ready');
      assert.equal((await labelsInStatus(s))[0][0], EVIL);
      s.open(uri, text, 'python');
      await routing(s, uri);
      const h = await hover(s, uri, 0, 5);
      assert.ok(h);
      assert.ok(!h.contents.value.includes('![pwn]') && !h.contents.value.includes('](https'), h.contents.value);
      assert.ok(h.contents.value.includes('\\!\\[pwn\\]'), 'the label is shown, escaped');
    } finally {
      await s.stop();
    }
  });

  // Item 2: moe.json on a stalled file, then a switch to the embedded model: status said ready but routing and
  // hover timed out forever (the analysis queue waited on the superseded load). Now the FIFO is refused before any read
  // (not a regular file) and the load timeout stays at its default: nothing here depends on the machine's speed.
  it('item 2: after a load on a stalled file, switching to the embedded model serves routing and hover', async () => {
    const dir = modelCopy();
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'moe.json'));
    const fifo = makeFifo(join(dir, 'moe.json'));
    const s = new TestServer();
    try {
      await s.start({ modelPath: dir });
      s.open(uri, text, 'python');
      const early = routing(s, uri).then(
        (r) => r,
        (e: Err) => e,
      ); // asked while the stalled load is current
      const st = await s.settled(); // the FIFO is refused as not a regular file (no read blocks on it)
      assert.equal(st.state, 'error');
      assert.match(st.message ?? '', /moe\.json/);
      await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: { moeLens: { modelPath: '', executionProvider: 'cpu', maxTokens: 4096 } } });
      assert.equal((await s.settled()).state, 'ready');
      const r = await routing(s, uri);
      assert.equal(r.version, 1);
      assert.ok(await hover(s, uri, 0, 5));
      const e = await early;
      assert.ok('tokens' in e || [-32002, -32603].includes((e as Err).code), JSON.stringify(e).slice(0, 200));
    } finally {
      await s.stop();
      releaseFifo(fifo); // a reader the server left blocked gets EOF
    }
  });

  describe('one server', () => {
    let s: TestServer;
    before(async () => {
      s = new TestServer({ MOE_LENS_PARTIAL_AFTER_MS: '0' });
      await s.start();
      assert.equal((await s.settled()).state, 'ready');
      s.open(uri, text, 'python');
    });
    after(() => s.stop());

    // Item 9: these answered -32603 with a TypeError's text.
    it('item 9: malformed requests answer InvalidParams (-32602) naming the field', async () => {
      const cases: [string, unknown, RegExp][] = [
        [Methods.routing.method, { textDocument: { uri: 'file:///never-opened.txt' } }, /textDocument\.uri: document file:\/\/\/never-opened\.txt is not open/],
        [Methods.routing.method, undefined, /needs a params object|"textDocument" is missing|defines 1 params but received none/],
        [Methods.routing.method, {}, /"textDocument" is missing/],
        [Methods.routing.method, { textDocument: { uri: 7 } }, /"textDocument\.uri" must be a string/],
        ['textDocument/hover', { textDocument: { uri } }, /"position" is missing/],
        ['textDocument/hover', { textDocument: { uri }, position: { line: -1, character: 'x' } }, /"position" needs non-negative integers/],
        ['textDocument/hover', undefined, /needs a params object|"textDocument" is missing|defines 1 params but received none/],
        [Methods.setSteering.method, undefined, /needs a params object|rules must be an array|defines 1 params but received none/],
        [Methods.setSteering.method, { rules: 'all' }, /rules must be an array/],
      ];
      for (const [method, params, pattern] of cases) {
        const e = await (params === undefined ? s.conn.sendRequest(method) : s.conn.sendRequest(method, params)).then(
          () => undefined,
          (x: Err) => x,
        );
        assert.ok(e, `${method} ${JSON.stringify(params)} succeeded`);
        assert.equal(e.code, -32602, `${method} ${JSON.stringify(params)}: ${e.code} ${e.message}`);
        assert.match(e.message, pattern);
        assert.doesNotMatch(e.message, /TypeError|Cannot read properties/);
      }
    });

    // Item 11: a didChange that repeats a version number was served the result of the old text.
    it('item 11: a change that repeats a version number is analysed (never the old text\'s result)', async () => {
      const u = 'file:///same-version.txt';
      s.open(u, 'alpha beta', 'plaintext');
      const first = await routing(s, u);
      void s.conn.sendNotification('textDocument/didChange', { textDocument: { uri: u, version: 1 }, contentChanges: [{ text: 'gamma delta epsilon zeta' }] });
      const second = await routing(s, u);
      assert.notDeepEqual(second.ids, first.ids);
      assert.equal(second.offsets[second.offsets.length - 1], 'gamma delta epsilon zeta'.length);
    });

    // Item 11: moeLens/contrastive read any file: uri, /dev/zero included, without a size limit.
    it('item 11: moeLens/contrastive refuses devices, FIFOs and oversized files (InvalidParams naming the uri)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'moe-lens-contrastive-'));
      const fifo = makeFifo(join(dir, 'pipe'));
      const big = join(dir, 'big.txt');
      writeFileSync(big, 'x'.repeat(9 * 2 ** 20));
      try {
        for (const [file, pattern] of [['/dev/zero', /not a regular file/], [fifo, /not a regular file/], [big, /more than the 8 MiB/]] as const) {
          const e = await s.conn.sendRequest(SteeringMethods.contrastive.method, { setA: [{ uri: `file://${file}` }], setB: [{ text: 'b' }] }).then(
            () => undefined,
            (x: Err) => x,
          );
          assert.ok(e, `${file} was read`);
          assert.equal(e.code, -32602);
          assert.match(e.message, pattern);
        }
      } finally {
        releaseFifo(fifo); // should the server have opened it after all, its read ends
      }
    });

    // Item 11: 200k never-opened uris in moeLens/visibleRanges kept 138 MB. What keeps them out is VisibleOffsets
    // (bounded: test/unit/reliability.test.ts); the memory itself is measured in the soak (bench/soak.ts), not here,
    // where another process's load would move it. Over stdio: the flood is read to its end and the open document's
    // own visible range still steers its analysis.
    it('item 11: a flood of visibleRanges for never-opened uris is absorbed; the open document is still served', async () => {
      await routing(s, uri);
      for (let i = 0; i < 20000; i++) void s.conn.sendNotification(Methods.visibleRanges.method, { uri: `file:///never/opened/${i}/with/a/long/path/name.ts`, ranges: [[i, i + 100]] });
      await s.conn.sendRequest(Methods.getStatus.method); // answered after every notification before it
      s.conn.sendNotification(Methods.visibleRanges.method, { uri, ranges: [[0, 10]] });
      s.edit(uri, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, '# ');
      const r = await routing(s, uri);
      assert.ok(r.tokens > 0 && !r.partial, 'the open document is analysed after the flood');
    });

    // Item 7: while an analysis ran, the server handled one incoming message per model window (vscode-jsonrpc takes
    // one queued message per event-loop turn, onnxruntime-node runs each model call in a turn of its own), and an
    // edit did not stop the analysis of the old text: a burst of edits was read slowly while superseded versions ran
    // on (150 keys at the top of a 4k-token document: 31 full analyses, the final answer 3.1 s late).
    it('item 7: a burst of edits stops the running analysis of the old version within one model window', async () => {
      const long = readFileSync(join(embeddedModel, 'profile', 'python.txt'), 'utf8').repeat(3).slice(0, 14000);
      const u = 'file:///burst.py';
      const seen: { version: number; partial?: boolean }[] = [];
      let burstAt = -1;
      let acknowledged = -1;
      s.conn.onNotification(Methods.routingChanged.method, (p: { uri: string; version: number; partial?: boolean }) => {
        if (p.uri !== u) return;
        seen.push(p);
        if (p.version === 1 && p.partial && burstAt < 0) {
          burstAt = seen.length;
          // 100 keystrokes at the top, sent at once, then a request answered only after all of them were handled
          for (let k = 0; k < 100; k++) s.edit(u, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, 'x');
          void s.conn.sendRequest(Methods.getStatus.method).then(() => (acknowledged = seen.length));
        }
      });
      s.open(u, long, 'python'); // analysed after the open's debounce; no routing request until the end
      const answered = () => acknowledged >= 0; // set by the notification handler above
      for (let i = 0; i < 1200 && !answered(); i++) await sleep(50);
      assert.ok(burstAt > 0, 'no partial result for version 1');
      assert.ok(acknowledged >= 0, 'the server did not answer after the burst');
      // How many windows of the old text ran during the round trip depends on the machine's load, so it is not
      // counted. What does not: once the server has read the edits (the status request after them is answered), not
      // one more window of version 1 is published, and version 1 never completes (before the fix it ran its 7 windows
      // to the end while the edits waited, one message read per window).
      assert.equal((await routing(s, u)).version, 101);
      assert.deepEqual(seen.slice(acknowledged).filter((p) => p.version === 1), [], 'the old version went on after the edits were read');
      assert.ok(!seen.some((p) => p.version === 1 && !p.partial), 'the old version ran to completion');
    });
  });

  // Item 10: a bad Content-Length left the process alive, silent and never exiting.
  describe('item 10: a framing error ends the process with a message on stderr', () => {
    const cases: [string, string][] = [
      ['non-numeric Content-Length', 'Content-Length: abc\r\n\r\n{}'],
      ['missing Content-Length', 'Content-Type: application/json\r\n\r\n{}'],
      ['Content-Length too large', 'Content-Length: 99999999999\r\n\r\n{}'],
    ];
    for (const [name, bytes] of cases) {
      it(name, async () => {
        const proc = spawn(process.execPath, [join(distDir, 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
        try {
          let stderr = '';
          proc.stderr.on('data', (d) => (stderr += d));
          const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
          proc.stdin.write(bytes);
          // the server exits on its own; only a deaf server reaches mocha's timeout (and the finally below)
          const code = await exited;
          assert.notEqual(code, 0);
          assert.match(stderr, /unreadable input on stdin/);
        } finally {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
        }
      });
    }
  });
});

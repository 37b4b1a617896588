// Documents the server must not analyse (continuations, output channels, diff originals): a client that syncs them
// anyway gets no analysis, no routingChanged, no error in the log; routing for them is refused naming the scheme, and
// a hover is simply empty. The real server over stdio with the embedded model.
import assert from 'node:assert/strict';
import { Methods } from '../../common/protocol';
import { TestServer } from './client';

describe('language server: documents skipped by scheme', function () {
  let s: TestServer;
  const logs: string[] = [];
  const text = 'def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n';
  const skipped = ['moe-lens-continuation:/run-1/steered.py', 'output:extension-output-moe-lens.moe-lens-%231-MoE%20Lens', 'git:/w/fib.py?%7B%22ref%22%3A%22HEAD%22%7D'];

  before(async () => {
    s = new TestServer();
    s.conn.onNotification('window/logMessage', (m: { message: string }) => void logs.push(m.message));
    await s.start();
    assert.equal((await s.settled()).state, 'ready');
  });
  after(() => s.stop());

  it('analyses file: and untitled: documents and nothing else, with no log line about the others', async () => {
    for (const uri of skipped) s.open(uri, text, 'python');
    s.open('untitled:Untitled-1', text, 'python');
    s.open('file:///w/fib.py', text, 'python');
    for (let i = 0; i < 200 && s.routingChanged.filter((c) => !c.partial).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500)); // any (wrong) analysis of the skipped documents would be done by now
    assert.deepEqual([...new Set(s.routingChanged.map((c) => c.uri))].sort(), ['file:///w/fib.py', 'untitled:Untitled-1']);
    for (const uri of skipped) {
      await assert.rejects(s.conn.sendRequest(Methods.routing, { textDocument: { uri } }), (e: Error) => e.message.includes(`${uri.split(':')[0]}: documents are not analysed`));
      assert.equal(await s.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 4 } }), null);
    }
    const noisy = logs.filter((l) => skipped.some((u) => l.includes(u.split(':')[0] + ':')));
    assert.deepEqual(noisy, [], 'log lines about skipped documents');
  });
});

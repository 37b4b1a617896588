// Background model work (the expert labels' profiling pass the server starts at load) goes through the documents'
// model queue: a document opened meanwhile runs all its windows without a labels window between them, the labels
// come out the same as when computed alone, and a client that never pauses still gets them (a window postponed for
// MAX_POSTPONE_MS runs between two of its jobs). The server is the real one on an in-memory connection.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Methods } from '../../common/protocol';
import type { ModelBackend } from '../../server/model/backend';
import { ModelSession } from '../../server/model/modelSession';
import { computeExpertLabels } from '../../server/steering/labels';
import { inMemoryServer } from '../support/inMemoryServer';
import { embeddedModel } from '../support/paths';

/** The session, with every model call written to `log` under `tag` (the real forward runs). */
function logged(s: ModelSession, tag: string, log: string[]): ModelBackend {
  const b = Object.create(s) as ModelSession;
  b.forward = (...args: Parameters<ModelSession['forward']>) => {
    log.push(tag);
    return s.forward(...args);
  };
  return b;
}

describe('background model work waits for document analyses', function () {
  this.timeout(180000);
  let s: ModelSession;
  let text = '';
  const uri = 'file:///doc.ts';
  before(async () => {
    s = await ModelSession.load(embeddedModel, 'cpu');
    for (const f of ['typescript_js', 'python', 'c_cpp']) text += readFileSync(join(embeddedModel, 'profile', `${f}.txt`), 'utf8');
  });
  after(() => s.dispose());

  it('a document opened during the labels pass runs its windows back to back; the labels are unchanged', async () => {
    const log: string[] = [];
    // the embedded model ships its labels: the server's own pass makes no model call, and only this one runs
    const m = await inMemoryServer(logged(s, 'doc', log));
    try {
      // a small corpus: two domains of a few windows each
      const corpus = [{ domain: 'python', text: text.slice(6000, 9000) }, { domain: 'c_cpp', text: text.slice(9000, 12000) }];
      const labels = computeExpertLabels(logged(s, 'labels', log), { schedule: (call) => m.server.analyses.background(call) }, corpus);
      while (!log.length) await new Promise((r) => setImmediate(r)); // the labels pass has started
      let atOpen = -1; // model calls made when the server took the document
      m.server.documents.onDidOpen(() => (atOpen = log.length));
      await m.open(uri, text.slice(0, 6000)); // several windows of 512 tokens
      const r = await m.server.analyses.get(uri);
      const docCalls = log.flatMap((t, i) => (t === 'doc' ? [i] : []));
      assert.equal(docCalls.length, r.windows);
      assert.ok(r.windows > 1);
      assert.equal(docCalls[docCalls.length - 1] - docCalls[0], docCalls.length - 1, `no labels window between the document's: ${log.join(' ')}`);
      assert.ok(atOpen >= 1 && docCalls[0] <= atOpen, `the document waited for at most the labels window already running (${atOpen} calls at open): ${log.join(' ')}`);
      const set = await labels;
      assert.ok(log.length > docCalls[docCalls.length - 1] + 1, 'the labels pass went on after the document');
      const alone = await computeExpertLabels(s, {}, corpus);
      assert.deepEqual(set?.labels, alone?.labels);
    } finally {
      m.dispose();
    }
  });

  it('a background call cancelled while it waits never runs', async () => {
    const log: string[] = [];
    const m = await inMemoryServer(logged(s, 'doc', log));
    try {
      await m.open(uri, text.slice(0, 6000));
      const pending = m.server.analyses.get(uri);
      let cancelled = false;
      const labels = computeExpertLabels(logged(s, 'labels', log), { schedule: (call) => m.server.analyses.background(call), isCancelled: () => cancelled }, [{ domain: 'python', text: text.slice(6000, 9000) }]);
      await pending;
      cancelled = true; // e.g. a newer model load
      await assert.rejects(labels, /cancelled/);
      assert.ok(!log.includes('labels'), log.join(' '));
    } finally {
      m.dispose();
    }
  });

  // Before: a labels window ran only after 100 ms without a message, an analysis or a debounced edit, so a client
  // that kept editing postponed the labels for as long as it kept on (issue 21).
  it('a client that edits without pause still gets its labels: a postponed window runs between two of its analyses', async () => {
    const log: string[] = [];
    const m = await inMemoryServer(logged(s, 'doc', log));
    const doc = text.slice(0, 1500);
    let edits = 0;
    const state = { labelsDone: false }; // set when the pass settles (in a callback the loop condition cannot see)
    try {
      await m.open(uri, doc);
      // two windows of profile text: a labels window must run twice while the client never pauses
      const labels = computeExpertLabels(logged(s, 'labels', log), { schedule: (call) => m.server.analyses.background(call) }, [{ domain: 'python', text: text.slice(6000, 9000) }]).finally(() => (state.labelsDone = true));
      // an edit, and its routing asked for, every 20 ms: the client is never quiet for the 100 ms background work waits for
      // (no limit in time: a count of edits far above what the bound needs, so that a starved pass fails, not hangs)
      while (!state.labelsDone && edits < 1500) {
        await m.change(uri, `${doc}${edits++ % 2 ? ';' : ','}`);
        void m.client.sendRequest(Methods.routing, { textDocument: { uri } }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(state.labelsDone, `no labels after ${edits} edits: the labels pass was postponed without limit (${log.filter((t) => t === 'labels').length} windows ran)`);
      const set = await labels;
      assert.ok(set && set.labels.length === s.info.layers);
      const first = log.indexOf('labels');
      const last = log.lastIndexOf('labels');
      assert.ok(first > 0 && log.slice(0, first).includes('doc'), `the client's analyses ran before the first labels window: ${log.join(' ')}`);
      assert.ok(last > first && log.slice(first, last).includes('doc'), `and between the labels windows: ${log.join(' ')}`);
    } finally {
      m.dispose();
    }
  });
});

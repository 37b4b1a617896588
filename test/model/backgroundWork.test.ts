// Background model work (the expert labels' profiling pass the server starts at load) goes through the documents'
// model queue: a document opened meanwhile runs all its windows without a labels window between them, and the
// labels come out the same as when computed alone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelBackend } from '../../server/model/backend';
import { ModelSession } from '../../server/model/modelSession';
import { DocumentAnalyses } from '../../server/lsp/documentAnalyses';
import { computeExpertLabels } from '../../server/steering/labels';
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
  let s: ModelSession;
  let text = '';
  before(async () => {
    s = await ModelSession.load(embeddedModel, 'cpu');
    for (const f of ['typescript_js', 'python', 'c_cpp']) text += readFileSync(join(embeddedModel, 'profile', `${f}.txt`), 'utf8');
  });
  after(() => s.dispose());

  it('a document opened during the labels pass runs its windows back to back; the labels are unchanged', async () => {
    const log: string[] = [];
    const uri = 'file:///doc.ts';
    const doc = text.slice(0, 6000); // several windows of 512 tokens
    const analyses = new DocumentAnalyses({ session: async () => logged(s, 'doc', log), rules: () => [], maxTokens: () => 4096, text: () => ({ text: doc, version: 1 }), onResult: () => undefined });
    // a small corpus: two domains of a few windows each
    const corpus = [{ domain: 'python', text: text.slice(6000, 9000) }, { domain: 'c_cpp', text: text.slice(9000, 12000) }];
    const labels = computeExpertLabels(logged(s, 'labels', log), { schedule: (call) => analyses.background(call) }, corpus);
    while (!log.length) await new Promise((r) => setImmediate(r)); // the labels pass has started
    const r = await analyses.get(uri);
    const docCalls = log.flatMap((t, i) => (t === 'doc' ? [i] : []));
    assert.equal(docCalls.length, r.windows);
    assert.ok(r.windows > 1);
    assert.equal(docCalls[docCalls.length - 1] - docCalls[0], docCalls.length - 1, `no labels window between the document's: ${log.join(' ')}`);
    assert.ok(docCalls[0] <= 1, `the document waited for at most the labels window already running: ${log.join(' ')}`);
    const set = await labels;
    assert.ok(log.length > docCalls[docCalls.length - 1] + 1, 'the labels pass went on after the document');
    const alone = await computeExpertLabels(s, {}, corpus);
    assert.deepEqual(set?.labels, alone?.labels);
  });

  it('a background call cancelled while it waits never runs', async () => {
    const log: string[] = [];
    const doc = text.slice(0, 6000);
    const analyses = new DocumentAnalyses({ session: async () => logged(s, 'doc', log), rules: () => [], maxTokens: () => 4096, text: () => ({ text: doc, version: 1 }), onResult: () => undefined });
    const pending = analyses.get('file:///doc.ts');
    let cancelled = false;
    const labels = computeExpertLabels(logged(s, 'labels', log), { schedule: (call) => analyses.background(call), isCancelled: () => cancelled }, [{ domain: 'python', text: text.slice(6000, 9000) }]);
    await pending;
    cancelled = true; // e.g. a newer model load
    await assert.rejects(labels, /cancelled/);
    assert.ok(!log.includes('labels'), log.join(' '));
  });
});

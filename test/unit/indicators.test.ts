// The words of the indicators: which documents are analysed, how an expert share names its denominator, and what the
// panel says when a document has no routing yet (only "loading" while the model loads).
import assert from 'node:assert/strict';
import { analysedSelector, isAnalysedScheme } from '../../common/analysedDocuments';
import { shareDenominator, shareText } from '../../common/shareText';
import { noRoutingReason } from '../../extension/panel/noRoutingReason';

describe('indicators', () => {
  it('analyses files, untitled buffers and notebook cells, by scheme or URI; skips continuations, output, git and notebook outputs', () => {
    for (const s of ['file', 'untitled', 'file:///a.py', 'untitled:Untitled-1', 'FILE', 'vscode-notebook-cell:/w/a.ipynb#W0sZmlsZQ']) assert.ok(isAnalysedScheme(s), s);
    for (const s of ['moe-lens-continuation:/run-1/steered.py', 'output:x', 'git:/a.py', 'vscode-scm:x', 'vscode-settings:x', 'vscode-notebook-cell-output:/w/a.ipynb#W0']) assert.ok(!isAnalysedScheme(s), s);
    assert.deepEqual(analysedSelector(), [{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-notebook-cell' }]);
  });

  it('a share says "of tokens, top-k"', () => {
    assert.equal(shareText(0.1234, 2), '12.3% of tokens, top-2');
    assert.equal(shareDenominator(1), 'of tokens, top-1');
  });

  it('"loading" only while the model loads', () => {
    assert.match(noRoutingReason('fib.py', 'loading'), /the model is loading/);
    assert.match(noRoutingReason('fib.py', 'starting'), /the model is loading/);
    assert.doesNotMatch(noRoutingReason('fib.py', 'ready'), /loading/);
    assert.match(noRoutingReason('fib.py', 'ready'), /being analysed/);
    assert.match(noRoutingReason('fib.py', 'error'), /could not be used/);
  });
});

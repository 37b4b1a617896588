import assert from 'node:assert/strict';
import { ForegroundActivity, QUIET_MS } from '../../server/lsp/foregroundActivity';

describe('ForegroundActivity: when background model work may run', () => {
  it('not while an analysis is queued or running, a document is debounced, or just after either ended', () => {
    let debounced = false;
    const a = new ForegroundActivity(() => debounced);
    assert.equal(a.quietIn(), 0); // nothing has happened yet
    a.begin();
    assert.equal(a.quietIn(), QUIET_MS);
    a.end();
    const wait = a.quietIn();
    assert.ok(wait > 0 && wait <= QUIET_MS, `${wait}`); // the reply of the analysis goes out first
    debounced = true;
    assert.equal(new ForegroundActivity(() => debounced).quietIn(), QUIET_MS);
  });

  it('not within QUIET_MS of the last message from the client', () => {
    let last = performance.now();
    const a = new ForegroundActivity(() => false, () => last);
    assert.ok(a.quietIn() > 0);
    last = performance.now() - 2 * QUIET_MS;
    assert.equal(a.quietIn(), 0);
  });
});

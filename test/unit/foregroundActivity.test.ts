import assert from 'node:assert/strict';
import { ForegroundActivity, MAX_POSTPONE_MS, QUIET_MS } from '../../server/lsp/foregroundActivity';

describe('ForegroundActivity: when background model work may run', () => {
  it('not while an analysis is queued or running, a document is debounced, or just after either ended', () => {
    let debounced = false;
    let now = 1000;
    const a = new ForegroundActivity(() => debounced, { now: () => now });
    assert.equal(a.quietIn(), 0); // nothing has happened yet
    a.begin();
    assert.equal(a.quietIn(), QUIET_MS);
    now += 5000;
    a.end();
    assert.equal(a.quietIn(), QUIET_MS); // the reply of the analysis goes out first
    now += QUIET_MS / 2;
    assert.equal(a.quietIn(), QUIET_MS / 2);
    now += QUIET_MS / 2;
    assert.equal(a.quietIn(), 0);
    debounced = true;
    assert.equal(a.quietIn(), QUIET_MS);
  });

  it('not within QUIET_MS of the last message from the client', () => {
    const now = 1000;
    let last = now;
    const a = new ForegroundActivity(() => false, { lastMessageAt: () => last, now: () => now });
    assert.equal(a.quietIn(), QUIET_MS);
    last = now - 2 * QUIET_MS;
    assert.equal(a.quietIn(), 0);
  });

  it('a quiet client: background windows run at once and are never overdue', () => {
    let now = 0;
    const a = new ForegroundActivity(() => false, { now: () => now });
    for (let i = 0; i < 3; i++) {
      assert.equal(a.backgroundIn(), 0);
      assert.equal(a.overdue, false);
      a.backgroundStarted();
      now += 10 * MAX_POSTPONE_MS;
    }
  });

  // Before (issue 21): a client that sent a message every < 100 ms postponed background work for as long as it did.
  for (const busy of ['a message every 10 ms', 'an analysis always running'] as const) {
    it(`a client that never pauses (${busy}): one window per MAX_POSTPONE_MS of postponement, then the wait starts over`, () => {
      let now = 0;
      const a = new ForegroundActivity(() => false, { lastMessageAt: () => (busy === 'a message every 10 ms' ? now : -Infinity), now: () => now });
      if (busy === 'an analysis always running') a.begin();
      for (let window = 0; window < 3; window++) {
        const start = now;
        // the postponement starts at the first ask; each wait stays within QUIET_MS and never past the bound
        while (a.backgroundIn() > 0) {
          const wait = a.backgroundIn();
          assert.ok(wait <= QUIET_MS && now + wait <= start + MAX_POSTPONE_MS, `wait ${wait} at ${now - start} ms`);
          assert.equal(a.overdue, false);
          now += Math.min(wait, 10); // the client sends its next message before the wait is over
        }
        assert.equal(now - start, MAX_POSTPONE_MS, 'overdue exactly at the bound');
        assert.equal(a.overdue, true); // DocumentAnalyses.background puts it ahead of the documents
        a.backgroundStarted();
        assert.equal(a.overdue, false);
        assert.ok(a.backgroundIn() > 0, 'the next window waits afresh');
      }
    });
  }

  it('the bound is a parameter (MAX_POSTPONE_MS by default)', () => {
    let now = 0;
    const a = new ForegroundActivity(() => true, { now: () => now, maxPostponeMs: 250 });
    assert.equal(a.backgroundIn(), QUIET_MS);
    now += 200;
    assert.equal(a.backgroundIn(), 50);
    now += 50;
    assert.equal(a.backgroundIn(), 0);
    assert.equal(a.overdue, true);
  });
});

import assert from 'node:assert/strict';
import { tokenAt } from '../../common/tokens';
import { tokenOffsets } from '../../server/model/offsets';

const bytes = (s: string) => new TextEncoder().encode(s).length;

describe('token offsets (UTF-16 ranges from token byte lengths)', () => {
  it('ASCII tokens map one byte to one unit', () => {
    assert.deepEqual(tokenOffsets('def f', [3, 2]), [0, 3, 3, 5]);
  });
  it('CRLF and tabs', () => {
    // "a\r\n\tb": tokens "a", "\r\n", "\t", "b"
    assert.deepEqual(tokenOffsets('a\r\n\tb', [1, 2, 1, 1]), [0, 1, 1, 3, 3, 4, 4, 5]);
  });
  it('an emoji (surrogate pair, 4 bytes) split over two tokens stays whole in the first', () => {
    // "x😀y": bytes x(1) 😀(4) y(1); tokens: "x"+2 bytes of 😀, the other 2 bytes, "y"
    assert.deepEqual(tokenOffsets('x😀y', [3, 2, 1]), [0, 3, 3, 3, 3, 4]);
  });
  it('CJK characters (3 bytes, 1 unit each)', () => {
    assert.equal(bytes('中文'), 6);
    assert.deepEqual(tokenOffsets('中文', [3, 3]), [0, 1, 1, 2]);
    // a token boundary inside 文: 文 belongs to the token where it starts
    assert.deepEqual(tokenOffsets('中文', [4, 2]), [0, 2, 2, 2]);
  });
  it('combining marks are their own code point', () => {
    // "e" + U+0301 (2 bytes): tokens "e", "\u0301"
    assert.deepEqual(tokenOffsets('e\u0301', [1, 2]), [0, 1, 1, 2]);
  });
  it('a lone surrogate counts as U+FFFD (3 bytes) for one unit', () => {
    assert.deepEqual(tokenOffsets('a\ud800b', [1, 3, 1]), [0, 1, 1, 2, 2, 3]);
  });
  it('ranges are ordered, non-overlapping and cover the text', () => {
    const text = 'héllo 😀👍🏽 中文\r\n\tx';
    const lengths = [...new TextEncoder().encode(text)].map(() => 1); // one byte per token: the worst case
    const off = tokenOffsets(text, lengths);
    assert.equal(off[0], 0);
    assert.equal(off[off.length - 1], text.length);
    for (let i = 0; i + 1 < off.length; i += 2) {
      assert.ok(off[i] <= off[i + 1]);
      if (i + 2 < off.length) assert.equal(off[i + 1], off[i + 2]);
      // never ends inside a surrogate pair
      const c = text.charCodeAt(off[i + 1]);
      assert.ok(!(c >= 0xdc00 && c <= 0xdfff), `range ${i / 2} ends inside a surrogate pair`);
    }
  });
  it('tokenAt finds the token containing an offset', () => {
    const off = [0, 3, 3, 3, 3, 5];
    assert.equal(tokenAt(off, 0), 0);
    assert.equal(tokenAt(off, 2), 0);
    assert.equal(tokenAt(off, 3), 2);
    assert.equal(tokenAt(off, 4), 2);
    assert.equal(tokenAt([0, 3, 3, 3], 3), 0); // an empty token steps back to the one that holds the character
    assert.equal(tokenAt([], 4), -1);
  });
});

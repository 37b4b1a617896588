import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MoeTokenizer } from '../../server/model/tokenizer';
import { embeddedModel } from '../support/paths';

describe('tokenizer of the embedded model', () => {
  let tok: MoeTokenizer;
  before(async () => {
    tok = await MoeTokenizer.fromFile(join(embeddedModel, 'tokenizer.json'));
  });

  const samples = ['plain ascii\n\tindent', 'Grüße naïve café', '😀👍🏽👨‍👩‍👧 emoji', '中文 日本語 한국어', 'e\u0301 combining', 'crlf\r\nline', 'nul\u0000bell\u0007'];

  it('decode(encode(x)) === x', () => {
    assert.equal(tok.vocabSize, 4096);
    for (const x of [...samples, '']) assert.equal(tok.decode(tok.encode(x).ids), x);
  });

  it('token bytes add up to the UTF-8 bytes of the text, so offsets tile it exactly', () => {
    for (const x of [...samples, 'a\ud800b', '\udc00']) {
      const { ids, offsets } = tok.encode(x);
      const bytes = ids.reduce((n, id) => n + tok.tokenBytes(id).length, 0);
      assert.equal(bytes, new TextEncoder().encode(x).length, JSON.stringify(x));
      assert.equal(offsets.length, 2 * ids.length);
      assert.equal(offsets[0], 0);
      assert.equal(offsets[offsets.length - 1], x.length);
    }
  });

  it('every range holds exactly the text its tokens decode to (whole characters)', () => {
    for (const x of samples) {
      const { ids, offsets } = tok.encode(x);
      let t = 0;
      while (t < ids.length) {
        // tokens that share a character: the first has the range, the rest are empty; decode them together
        let u = t + 1;
        while (u < ids.length && offsets[2 * u] === offsets[2 * u + 1]) u++;
        assert.equal(tok.decode(ids.slice(t, u)), x.slice(offsets[2 * t], offsets[2 * u - 1]), `${JSON.stringify(x)} token ${t}`);
        t = u;
      }
    }
  });

  it('"<|endoftext|>" in a text is the special token, with its 13 characters as its range', () => {
    const { ids, offsets } = tok.encode('a<|endoftext|>b');
    assert.deepEqual(ids.slice(1, 2), [4095]);
    assert.deepEqual(offsets.slice(2, 4), [1, 14]);
    assert.equal(tok.tokenText(4095), '<|endoftext|>');
    assert.equal(tok.decode(ids), 'a<|endoftext|>b');
  });

  it('tokenText: a lone UTF-8 fragment shows as U+FFFD, a whole token as itself', () => {
    assert.equal(tok.tokenText(tok.encode('x').ids[0]), 'x');
    const lead = tok.encode('😀').ids[0]; // the emoji's 4 bytes start in this token
    assert.equal(tok.tokenBytes(lead)[0], 0xf0);
    if (tok.tokenBytes(lead).length < 4) assert.ok(tok.tokenText(lead).includes('\ufffd'));
    assert.equal(tok.tokenText(999999), '<999999>');
  });
});

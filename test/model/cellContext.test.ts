// contextText with the embedded model's real tokenizer: the combined text fits the context, the kept prefix is the
// end of the cells above, and the cell's tokens in the combined text are its own.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cellsAbovePrefix, contextText, firstCellToken } from '../../server/analysis/cellContext';
import { MoeTokenizer } from '../../server/model/tokenizer';
import { embeddedModel } from '../support/paths';

describe('notebook cell context with the real tokenizer', () => {
  let tok: MoeTokenizer;
  before(async () => {
    tok = await MoeTokenizer.fromFile(join(embeddedModel, 'tokenizer.json'));
  });
  const cell = 'def area(r):\n    return 3.14159 * r * r\n';

  it('a short prefix is kept whole, and the cell starts right after it', () => {
    const prefix = cellsAbovePrefix(['# Circles', 'import math']);
    const c = contextText(tok, prefix, 2, cell, 512);
    assert.equal(c.text, prefix + cell);
    assert.equal(c.start, prefix.length);
    assert.deepEqual(c.context, { cells: 2, tokens: c.prefixTokens, truncated: false });
    assert.equal(c.prefixTokens, firstCellToken(tok.encode(c.text).offsets, prefix.length));
    assert.ok(c.prefixTokens > 0);
  });

  it('a long prefix is cut from the left so that prefix and cell fit the context exactly or just under', () => {
    const cells = Array.from({ length: 60 }, (_, i) => `x${i} = compute(${i}, "step ${i}")  # cell ${i}`);
    const prefix = cellsAbovePrefix(cells);
    for (const C of [64, 100, 256]) {
      const c = contextText(tok, prefix, cells.length, cell, C);
      const total = tok.encode(c.text).ids.length;
      assert.ok(total <= C, `${total} tokens > context ${C}`);
      assert.ok(total >= C - 3, `only ${total} of ${C} tokens used`);
      assert.ok(c.context.truncated);
      assert.ok(prefix.endsWith(c.text.slice(0, c.start)), 'the kept prefix is the end of the cells above');
      assert.equal(c.text.slice(c.start), cell);
      assert.equal(c.context.tokens, c.prefixTokens);
    }
  });

  it('a cell that fills the context alone is read without a prefix, and says so', () => {
    const long = 'word '.repeat(400);
    const c = contextText(tok, cellsAbovePrefix(['a = 1']), 1, long, 64);
    assert.deepEqual({ text: c.text, start: c.start, prefixTokens: c.prefixTokens }, { text: long, start: 0, prefixTokens: 0 });
    assert.deepEqual(c.context, { cells: 1, tokens: 0, truncated: true });
  });
});

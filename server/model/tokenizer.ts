import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelLoadError } from './errors';
import { tokenOffsets } from './offsets';

/** GPT-2's byte-level alphabet, reversed: the character a vocabulary string uses for each byte -> that byte. */
export function unicodeToBytes(): Map<string, number> {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return new Map(bs.map((b, i) => [String.fromCharCode(cs[i]), b]));
}

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> };
  added_tokens?: { id: number; content: string }[];
  normalizer?: { type?: string } | null;
  pre_tokenizer?: { type?: string; add_prefix_space?: boolean } | null;
}

/** The model's tokenizer (Hugging Face tokenizer.json via @huggingface/tokenizers) plus exact UTF-16 offsets. */
export class MoeTokenizer {
  private readonly bytesOf: Uint8Array[];
  private readonly texts: string[];

  private constructor(private readonly tok: Tokenizer, json: TokenizerJson, readonly vocabSize: number) {
    const u2b = unicodeToBytes();
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    this.bytesOf = new Array(vocabSize);
    this.texts = new Array(vocabSize);
    for (const [piece, id] of Object.entries(json.model?.vocab ?? {})) {
      const bytes = Uint8Array.from([...piece].map((ch) => u2b.get(ch) ?? 0x3f));
      this.bytesOf[id] = bytes;
      this.texts[id] = dec.decode(bytes);
    }
    for (const a of json.added_tokens ?? []) {
      this.bytesOf[a.id] = enc.encode(a.content);
      this.texts[a.id] = a.content;
    }
  }

  static async fromFile(path: string, file = 'tokenizer.json'): Promise<MoeTokenizer> {
    let json: TokenizerJson;
    try {
      json = JSON.parse(await readFile(path, 'utf8')) as TokenizerJson;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ModelLoadError(code === 'ENOENT' ? 'file is missing' : `not valid JSON (${(e as Error).message})`, file);
    }
    if (json.model?.type !== 'BPE' || !json.model.vocab) throw new ModelLoadError('only byte-level BPE tokenizers are supported', file, '/model/type');
    // Offsets are derived from token bytes, so the bytes of the tokens must be the bytes of the text: nothing may
    // rewrite the text first (a normalizer) or add to it (a prefix space).
    if (json.pre_tokenizer?.type !== 'ByteLevel') throw new ModelLoadError('only the ByteLevel pre-tokenizer is supported (offsets are derived from token bytes)', file, '/pre_tokenizer/type');
    if (json.pre_tokenizer.add_prefix_space) throw new ModelLoadError('add_prefix_space must be false: an added space would shift every offset', file, '/pre_tokenizer/add_prefix_space');
    if (json.normalizer) throw new ModelLoadError(`a normalizer (${String(json.normalizer.type)}) is not supported: it would change the text that offsets point into`, file, '/normalizer');
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, {});
    } catch (e) {
      throw new ModelLoadError(`cannot be loaded by @huggingface/tokenizers (${(e as Error).message})`, file);
    }
    const ids = [...Object.values(json.model.vocab), ...(json.added_tokens ?? []).map((a) => a.id)];
    return new MoeTokenizer(tok, json, Math.max(...ids) + 1);
  }

  /** Token ids and UTF-16 [start, end) pairs. */
  encode(text: string): { ids: number[]; offsets: number[] } {
    if (text.length === 0) return { ids: [], offsets: [] };
    const ids = this.tok.encode(text, { add_special_tokens: false }).ids;
    const lengths = ids.map((id) => this.bytesOf[id]?.length ?? 0);
    return { ids, offsets: tokenOffsets(text, lengths) };
  }

  decode(ids: number[]): string {
    if (ids.length === 0) return ''; // the library refuses an empty list
    return this.tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** The token's own text (a lone UTF-8 fragment shows as U+FFFD). */
  tokenText(id: number): string {
    return this.texts[id] ?? `<${id}>`;
  }

  tokenBytes(id: number): Uint8Array {
    return this.bytesOf[id] ?? new Uint8Array();
  }
}

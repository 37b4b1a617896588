import { Tokenizer } from '@huggingface/tokenizers';
import { jsonErrorPosition, ModelLoadError } from './errors';
import { FILE_CAPS, readCappedText } from './modelFiles';
import { tokenOffsets } from './offsets';

/** GPT-2's byte-level alphabet, reversed: the character a vocabulary string uses for each byte -> that byte. */
function unicodeToBytes(): Map<string, number> {
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

export interface TokenizerJson {
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

  /** Reads a tokenizer.json (a regular file of at most the tokenizer cap); errors name `file`, never its content. */
  static async fromFile(path: string, file = 'tokenizer.json'): Promise<MoeTokenizer> {
    let text: string;
    try {
      text = await readCappedText(path, FILE_CAPS.tokenizer, file);
    } catch (e) {
      throw new ModelLoadError((e as Error).message.replace(`${file}: `, ''), file);
    }
    return MoeTokenizer.fromText(text, file);
  }

  static fromText(text: string, file = 'tokenizer.json'): MoeTokenizer {
    let json: TokenizerJson;
    try {
      json = JSON.parse(text) as TokenizerJson;
    } catch (e) {
      throw new ModelLoadError(`not valid JSON${jsonErrorPosition(e)}`, file);
    }
    if (typeof json !== 'object' || json === null) throw new ModelLoadError('not a JSON object', file);
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
      throw new ModelLoadError(`cannot be loaded by @huggingface/tokenizers (${firstLine(e)})`, file);
    }
    return new MoeTokenizer(tok, json, vocabSizeOf(json, file));
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

/**
 * The largest token id + 1, by a loop: `Math.max(...ids)` passes every id as an argument and overflows the stack
 * from about 125k tokens on (Qwen's 151,936-token vocabulary, DeepSeek-V3's 129,280). Ids must be non-negative
 * integers below 2^24 (the largest real vocabularies are ~262k), so a hostile file cannot make the per-token tables huge.
 */
export function vocabSizeOf(json: TokenizerJson, file: string): number {
  let max = -1;
  const see = (id: unknown, field: string) => {
    if (!(Number.isInteger(id) && (id as number) >= 0 && (id as number) < 2 ** 24)) throw new ModelLoadError(`token id ${String(id)} is not an integer from 0 to 2^24`, file, field);
    if ((id as number) > max) max = id as number;
  };
  for (const id of Object.values(json.model?.vocab ?? {})) see(id, '/model/vocab');
  for (const a of json.added_tokens ?? []) see(a?.id, '/added_tokens');
  return max + 1;
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 200);

import { Tokenizer } from '@huggingface/tokenizers';
import { jsonErrorPosition, ModelLoadError } from './errors';
import { FILE_CAPS, readCappedText } from './modelFiles';
import { checkNormalizer, normalizeAligned, type NormalizerJson } from './normalizer';
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

interface PreTokenizerJson {
  type?: string;
  add_prefix_space?: boolean;
  pretokenizers?: PreTokenizerJson[];
}

export interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number>; byte_fallback?: boolean };
  added_tokens?: { id: number; content: string }[];
  normalizer?: NormalizerJson | null;
  pre_tokenizer?: PreTokenizerJson | null;
}

/** Pre-tokenizers that only split or map bytes: they never change which text a token's bytes stand for. */
const TEXT_PRESERVING = ['ByteLevel', 'Split', 'Digits', 'Punctuation'];

function preTokenizerSteps(p: PreTokenizerJson | null | undefined): PreTokenizerJson[] {
  if (!p) return [];
  return p.type === 'Sequence' ? (p.pretokenizers ?? []).flatMap(preTokenizerSteps) : [p];
}

/** A SentencePiece-style byte fallback piece, "<0x0A>": one byte. */
const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

/** The model's tokenizer (Hugging Face tokenizer.json via @huggingface/tokenizers) plus exact UTF-16 offsets. */
export class MoeTokenizer {
  private readonly bytesOf: Uint8Array[];
  private readonly texts: string[];
  /** UTF-8 length of the normalized text each token stands for (differs from bytesOf for "▁" pieces). */
  private readonly normLength: Int32Array;
  private readonly addedText = new Map<number, string>();

  private constructor(private readonly tok: Tokenizer, private readonly json: TokenizerJson, readonly vocabSize: number, byteLevel: boolean) {
    const u2b = unicodeToBytes();
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    this.bytesOf = new Array(vocabSize);
    this.texts = new Array(vocabSize);
    this.normLength = new Int32Array(vocabSize);
    for (const [piece, id] of Object.entries(json.model?.vocab ?? {})) {
      let bytes: Uint8Array;
      if (byteLevel) bytes = Uint8Array.from([...piece].map((ch) => u2b.get(ch) ?? 0x3f));
      else {
        // SentencePiece style: the piece is text with "▁" for a space, or a byte fallback "<0xNN>"
        const byte = json.model?.byte_fallback ? BYTE_PIECE.exec(piece) : null;
        bytes = byte ? Uint8Array.of(parseInt(byte[1], 16)) : enc.encode(piece.replaceAll('\u2581', ' '));
        this.normLength[id] = byte ? 1 : enc.encode(piece).length;
      }
      if (byteLevel) this.normLength[id] = bytes.length;
      this.bytesOf[id] = bytes;
      this.texts[id] = dec.decode(bytes);
    }
    for (const a of json.added_tokens ?? []) {
      this.bytesOf[a.id] = enc.encode(a.content);
      this.texts[a.id] = a.content;
      this.normLength[a.id] = this.bytesOf[a.id].length;
      this.addedText.set(a.id, a.content);
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
    if (json.model?.type !== 'BPE' || !json.model.vocab) throw new ModelLoadError('only BPE tokenizers are supported', file, '/model/type');
    // Offsets come from token bytes mapped back through the normalizer, so nothing may change the text in a way
    // this code does not re-trace: pre-tokenizers must only split (or map bytes), normalizers must be known ones.
    const steps = preTokenizerSteps(json.pre_tokenizer);
    for (const p of steps) {
      if (!TEXT_PRESERVING.includes(p.type ?? '')) throw new ModelLoadError(`the pre-tokenizer ${String(p.type)} is not supported (supported: ${TEXT_PRESERVING.join(', ')}, Sequence): offsets are derived from token bytes`, file, '/pre_tokenizer');
      if (p.type === 'ByteLevel' && p.add_prefix_space) throw new ModelLoadError('add_prefix_space must be false: an added space would shift every offset', file, '/pre_tokenizer/add_prefix_space');
    }
    checkNormalizer(json.normalizer, file);
    const byteLevel = steps.some((p) => p.type === 'ByteLevel');
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, {});
    } catch (e) {
      throw new ModelLoadError(`cannot be loaded by @huggingface/tokenizers (${firstLine(e)})`, file);
    }
    return new MoeTokenizer(tok, json, vocabSizeOf(json, file), byteLevel);
  }

  /** Token ids and UTF-16 [start, end) pairs: ordered, tiling the text, never splitting a character. */
  encode(text: string): { ids: number[]; offsets: number[] } {
    if (text.length === 0) return { ids: [], offsets: [] };
    const ids = this.tok.encode(text, { add_special_tokens: false }).ids;
    if (!this.json.normalizer && this.addedText.size === 0) return { ids, offsets: tokenOffsets(text, ids.map((id) => this.normLength[id])) };
    // Added tokens are cut out of the text before normalization, and the normalizer (e.g. Prepend "▁") runs on each
    // piece between them on its own: find each added token in the text and trace the pieces separately.
    const offsets: number[] = [];
    let cursor = 0;
    let run: number[] = [];
    for (const id of ids) {
      const added = this.addedText.get(id);
      const at = added === undefined ? -1 : text.indexOf(added, cursor);
      if (at < 0) {
        run.push(id);
        continue;
      }
      this.traceRun(text, cursor, at, run, offsets);
      offsets.push(at, at + added!.length);
      cursor = at + added!.length;
      run = [];
    }
    this.traceRun(text, cursor, text.length, run, offsets);
    return { ids, offsets };
  }

  /**
   * Offsets of the tokens of text[from, to), through the normalizer's alignment; appended to out. Each token maps to
   * the original range of its normalized characters; then the ranges are made to tile text[from, to): a token
   * starts where the one before it ends (a later token reaching an already owned character gets an empty range
   * there), and ends no earlier than where the next one starts, so characters the normalizer absorbed (the
   * combining mark NFC composed into "é") belong to the token before them, as in Hugging Face's offsets.
   */
  private traceRun(text: string, from: number, to: number, ids: number[], out: number[]): void {
    if (ids.length === 0) return;
    const norm = normalizeAligned(text.slice(from, to), this.json.normalizer);
    const local = tokenOffsets(norm.text, ids.map((id) => this.normLength[id]));
    const mapped = new Array<number>(local.length);
    for (let t = 0; t < ids.length; t++) {
      const a = local[2 * t];
      const b = local[2 * t + 1];
      let s = a;
      let e = b;
      if (norm.start && norm.end) {
        if (b > a) {
          s = Infinity;
          e = -Infinity;
          for (let k = a; k < b; k++) {
            s = Math.min(s, norm.start[k]);
            e = Math.max(e, norm.end[k]);
          }
        } else s = e = a > 0 ? norm.end[a - 1] : 0;
      }
      mapped[2 * t] = from + s;
      mapped[2 * t + 1] = from + e;
    }
    let prevEnd = from;
    for (let t = 0; t < ids.length; t++) {
      const next = t + 1 < ids.length ? mapped[2 * t + 2] : to;
      const end = Math.max(mapped[2 * t + 1], prevEnd, Math.min(next, to));
      out.push(prevEnd, end);
      prevEnd = end;
    }
  }

  decode(ids: number[]): string {
    if (ids.length === 0) return ''; // the library refuses an empty list
    return this.tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** The token's own text (a lone UTF-8 fragment shows as U+FFFD). */
  tokenText(id: number): string {
    return this.texts[id] ?? `<${id}>`;
  }

  /** The id of a token given by its exact text (special tokens such as "<s>"), or undefined. */
  tokenId(text: string): number | undefined {
    if (text === '') return undefined;
    const id = this.texts.indexOf(text);
    return id >= 0 ? id : undefined;
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

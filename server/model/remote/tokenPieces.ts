// UTF-16 ranges from the token strings an engine's /tokenize returns (vLLM `token_strs`: the vocabulary strings,
// tokenizer.convert_ids_to_tokens). Two conventions exist: GPT-2 byte-level BPE, where each character stands for one
// byte ("Ġ" = space), and SentencePiece, where "▁" is a space and "<0x0A>" a raw byte. The byte length of each piece
// is all server/model/offsets.ts needs to place the tokens in the text.
import { tokenOffsets } from '../offsets';
import { unicodeToBytes } from '../tokenizer';

const byteLevel = unicodeToBytes();
const utf8 = new TextEncoder();

/** The bytes of the text that one token string stands for. */
export function pieceBytes(piece: string, isByteLevel: boolean): number {
  if (isByteLevel) return [...piece].length;
  const raw = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
  if (raw) return 1;
  return utf8.encode(piece.replace(/▁/g, ' ')).length;
}

/** Whether every piece is written in GPT-2's byte alphabet (then each character is one byte). */
export function isByteLevelPieces(pieces: readonly string[]): boolean {
  return pieces.every((p) => [...p].every((ch) => byteLevel.has(ch)) && !/^<0x[0-9A-Fa-f]{2}>$/.test(p));
}

/**
 * UTF-16 [start, end) per token, or an error sentence when the pieces do not spell the text (a normalizer rewrote
 * it, or special tokens were added). SentencePiece's prefix space (Llama's "▁" before the first word, not in the
 * text) is dropped from the first token.
 */
export function offsetsFromPieces(text: string, pieces: readonly string[]): { offsets: number[] } | { error: string } {
  const bl = isByteLevelPieces(pieces);
  const lengths = pieces.map((p) => pieceBytes(p, bl));
  const total = utf8.encode(text).length;
  let sum = lengths.reduce((a, b) => a + b, 0);
  if (!bl && sum === total + 1 && pieces[0]?.startsWith('▁') && !text.startsWith(' ')) {
    lengths[0] -= 1;
    sum -= 1;
  }
  if (sum !== total) return { error: `the engine's tokens spell ${sum} bytes but the document has ${total} (a normalizer or added special tokens?)` };
  return { offsets: tokenOffsets(text, lengths) };
}

/** The text a token string shows in a hover (byte-level pieces decoded; SentencePiece "▁" as a space). */
export function pieceText(piece: string, isByteLevel: boolean): string {
  if (!isByteLevel) {
    const raw = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
    return raw ? String.fromCharCode(parseInt(raw[1], 16)) : piece.replace(/▁/g, ' ');
  }
  return new TextDecoder().decode(Uint8Array.from([...piece].map((ch) => byteLevel.get(ch) ?? 0x3f)));
}

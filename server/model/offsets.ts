/**
 * UTF-16 ranges of byte-level BPE tokens. @huggingface/tokenizers gives ids but no offsets, so we walk the UTF-8
 * bytes of the text (as TextEncoder produces them: a lone surrogate becomes U+FFFD, 3 bytes) alongside its UTF-16
 * code units. A character whose bytes are split across tokens belongs wholly to the token where it starts; a token
 * made only of continuation bytes gets an empty range at the end of that character. The ranges are therefore
 * ordered, non-overlapping, cover the text, and never split a surrogate pair or a multi-byte character.
 */
export function tokenOffsets(text: string, tokenByteLengths: ArrayLike<number>): number[] {
  // For every UTF-8 byte position that starts a character: its UTF-16 index. Mid-character positions map to -1.
  const starts: number[] = [];
  const utf16AtByte: number[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    let units = 1;
    let bytes: number;
    if (c < 0x80) bytes = 1;
    else if (c < 0x800) bytes = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes = 4;
      units = 2;
    } else bytes = 3; // BMP character, or a lone surrogate encoded as U+FFFD
    utf16AtByte.push(i);
    for (let b = 1; b < bytes; b++) utf16AtByte.push(-1 - (i + units)); // mid-character: remember the char's end
    starts.push(i);
    i += units;
  }
  const totalBytes = utf16AtByte.length;
  // A byte position rounded up to a character boundary, in UTF-16 units.
  const boundary = (pos: number): number => {
    if (pos >= totalBytes) return text.length;
    const v = utf16AtByte[pos];
    return v >= 0 ? v : -1 - v;
  };
  const out = new Array<number>(tokenByteLengths.length * 2);
  let pos = 0;
  for (let t = 0; t < tokenByteLengths.length; t++) {
    const start = boundary(pos);
    pos += tokenByteLengths[t];
    out[2 * t] = start;
    out[2 * t + 1] = Math.max(start, boundary(pos));
  }
  return out;
}

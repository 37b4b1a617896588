// The character class of a token's text, for expert labels ("lowercase words", "digits & punctuation").

export type CharClass = 'whitespace' | 'digits' | 'lowercase' | 'capitalised' | 'punctuation' | 'nonAscii' | 'mixed';

export const CHAR_CLASSES: readonly CharClass[] = ['whitespace', 'digits', 'lowercase', 'capitalised', 'punctuation', 'nonAscii', 'mixed'];

/** How a class reads in a label. */
export const CHAR_CLASS_PHRASE: Record<CharClass, string> = {
  whitespace: 'whitespace',
  digits: 'digits',
  lowercase: 'lowercase',
  capitalised: 'Capitalised',
  punctuation: 'punctuation',
  nonAscii: 'non-ASCII',
  mixed: 'mixed',
};

/**
 * '' or any non-ASCII character → nonAscii; only whitespace → whitespace; then, after one leading space is stripped
 * (byte-level BPE glues the space before a word to it): only digits → digits; only letters → lowercase if all lower,
 * else capitalised; no letters or digits → punctuation; anything else → mixed.
 */
export function charClass(text: string): CharClass {
  if (text === '' || /[^\x00-\x7f]/.test(text)) return 'nonAscii';
  if (/^\s+$/.test(text)) return 'whitespace';
  const s = text.startsWith(' ') ? text.slice(1) : text;
  if (/^[0-9]+$/.test(s)) return 'digits';
  if (/^[A-Za-z]+$/.test(s)) return s === s.toLowerCase() ? 'lowercase' : 'capitalised';
  if (!/[A-Za-z0-9]/.test(s)) return 'punctuation';
  return 'mixed';
}

/**
 * A checkpoint that cannot be imported. The message is for people; file and field (a config key, a tensor name or a
 * header field) say exactly where. The CLI maps it to exit code 2; anything else is an unexpected failure (exit 1).
 * A field is often a name taken from the checkpoint (a tensor name, a shard name from the index): the message shows it
 * through nameText, so a 100k-character name or one with terminal escapes cannot flood or rewrite the terminal.
 */
export class ImportError extends Error {
  readonly field?: string;

  constructor(message: string, readonly file: string, field?: string) {
    super(`${nameText(file)}${field ? ` (${nameText(field)})` : ''}: ${message}`);
    this.name = 'ImportError';
    if (field !== undefined) this.field = field.length > MAX_NAME ? `${field.slice(0, MAX_NAME)}…` : field;
  }
}

/** Longer than any real tensor, file or config key name (the longest Hugging Face tensor names have about 80). */
const MAX_NAME = 200;

/** A name for a message: control and other non-printing characters escaped as \uXXXX, cut to MAX_NAME characters. */
export function nameText(s: string): string {
  const cut = s.length > MAX_NAME ? `${s.slice(0, MAX_NAME)}…` : s;
  return cut.replace(/\p{C}/gu, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The caller's AbortSignal fired: nothing was written to OUT_DIR. */
export class ImportCancelled extends Error {
  constructor() {
    super('import cancelled');
    this.name = 'ImportCancelled';
  }
}

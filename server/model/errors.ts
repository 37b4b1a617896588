/** A model directory that cannot be used. The message is for people; file and field say exactly where. */
export class ModelLoadError extends Error {
  constructor(message: string, readonly file: string, readonly field?: string) {
    super(`${file}${field ? ` (${field})` : ''}: ${message}`);
    this.name = 'ModelLoadError';
  }
}

/** Where JSON.parse stopped ("at position 12"), without the snippet of text V8 quotes (which could be a secret file). */
export function jsonErrorPosition(e: unknown): string {
  const m = /position (\d+)/.exec(String((e as Error)?.message));
  return m ? ` (at position ${m[1]})` : '';
}

/**
 * What this backend cannot do (a serving engine reports routed experts only: no logits, no expert masks). The
 * message says what would; the LSP answers InvalidRequest with it (server/lsp/errors.ts), as docs/ARCHITECTURE.md says.
 */
export class UnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedError';
  }
}

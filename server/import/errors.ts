/**
 * A checkpoint that cannot be imported. The message is for people; file and field (a config key, a tensor name or a
 * header field) say exactly where. The CLI maps it to exit code 2; anything else is an unexpected failure (exit 1).
 */
export class ImportError extends Error {
  constructor(message: string, readonly file: string, readonly field?: string) {
    super(`${file}${field ? ` (${field})` : ''}: ${message}`);
    this.name = 'ImportError';
  }
}

/** The caller's AbortSignal fired: nothing was written to OUT_DIR. */
export class ImportCancelled extends Error {
  constructor() {
    super('import cancelled');
    this.name = 'ImportCancelled';
  }
}

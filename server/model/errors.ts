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

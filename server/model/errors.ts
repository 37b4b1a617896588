/** A model directory that cannot be used. The message is for people; file and field say exactly where. */
export class ModelLoadError extends Error {
  constructor(message: string, readonly file: string, readonly field?: string) {
    super(`${file}${field ? ` (${field})` : ''}: ${message}`);
    this.name = 'ModelLoadError';
  }
}

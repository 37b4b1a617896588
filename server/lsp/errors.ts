// The one place where a failure becomes an LSP error (requests.ts's `handler` calls it for every request). Every handler throws what it knows (a SteeringError, a
// cancellation, a missing parameter, a model that is not loaded) and lets this map it, so a client never sees an
// InternalError with a TypeError's text for what was its own mistake.
import { ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { CancelledError } from '../analysis/analyzer';
import { ModelLoadError, UnsupportedError } from '../model/errors';
import { SteeringError } from '../routing/expertBias';
import { TraceError } from '../trace/engineTrace';

/** A request whose parameters are missing or wrong; the message names the field. Maps to InvalidParams (-32602). */
export class ParamsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParamsError';
  }
}

/** The model is not loaded (still loading, or failed): the message says which, and why. */
export class ModelNotLoadedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelNotLoadedError';
  }
}

/** The backend cannot do what was asked (server/model/errors.ts; a serving engine has no logits): InvalidRequest. */
export { UnsupportedError };

/** A document the request names is not open on the server. */
export class DocumentNotOpenError extends ParamsError {
  constructor(readonly uri: string, field = 'textDocument.uri') {
    super(`${field}: document ${uri} is not open`);
  }
}

/**
 * The ResponseError for any failure: ParamsError, SteeringError, TraceError and RangeError → InvalidParams; a cancellation →
 * RequestCancelled; what the backend cannot do → InvalidRequest; a model that is not loaded → ServerNotInitialized with the model's own error; a ModelLoadError
 * raised by a run (invalid outputs) → InternalError naming the file; anything else → InternalError with its message.
 */
export function toResponseError(e: unknown): ResponseError<void> {
  if (e instanceof ResponseError) return e;
  if (e instanceof ParamsError || e instanceof SteeringError || e instanceof TraceError || e instanceof RangeError) return new ResponseError(ErrorCodes.InvalidParams, e.message);
  if (e instanceof CancelledError) return new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');
  if (e instanceof UnsupportedError) return new ResponseError(ErrorCodes.InvalidRequest, e.message);
  if (e instanceof ModelNotLoadedError) return new ResponseError(ErrorCodes.ServerNotInitialized, e.message);
  if (e instanceof ModelLoadError) return new ResponseError(ErrorCodes.InternalError, `model error: ${e.message}`);
  return new ResponseError(ErrorCodes.InternalError, e instanceof Error ? e.message : String(e));
}

// --- parameter checks: each names the field it checks ---

export function requireObject(params: unknown, what: string): Record<string, unknown> {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new ParamsError(`${what} needs a params object`);
  return params as Record<string, unknown>;
}

/** params.textDocument.uri as a string. */
export function requireTextDocumentUri(params: unknown, what: string): string {
  const p = requireObject(params, what);
  const td = p.textDocument as { uri?: unknown } | undefined;
  if (typeof td !== 'object' || td === null) throw new ParamsError(`${what}: "textDocument" is missing`);
  if (typeof td.uri !== 'string') throw new ParamsError(`${what}: "textDocument.uri" must be a string`);
  return td.uri;
}

/** params.position as { line, character } of non-negative integers. */
export function requirePosition(params: unknown, what: string): { line: number; character: number } {
  const pos = requireObject(params, what).position as { line?: unknown; character?: unknown } | undefined;
  const nat = (x: unknown) => Number.isInteger(x) && (x as number) >= 0;
  if (typeof pos !== 'object' || pos === null) throw new ParamsError(`${what}: "position" is missing`);
  if (!nat(pos.line) || !nat(pos.character)) throw new ParamsError(`${what}: "position" needs non-negative integers "line" and "character"`);
  return pos as { line: number; character: number };
}

// The one request path. Every moeLens/* handler (and textDocument/hover) is registered through `handler`, reads the
// model through `session` and open documents through `openDocument`, with the one dependency object, `Server`
// (serverState.ts). So parameter parsing, cancellation, error mapping and "not open" are written once.
import { CancellationToken } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { RoutingResult } from '../../common/protocol';
import { CancelledError } from '../analysis/analyzer';
import type { ModelBackend } from '../model/backend';
import { ModelLoadError } from '../model/errors';
import { DocumentNotOpenError, ModelNotLoadedError, toResponseError } from './errors';
import type { Server } from './serverState';

/**
 * Wraps a handler body. vscode-jsonrpc passes (params, token) — or only (token) for a request sent without params;
 * textDocument/hover adds progress reporters after the token — so params are the first argument unless it is the
 * token. A request the client cancelled while it ran answers RequestCancelled; whatever the body throws becomes a
 * ResponseError through errors.ts's toResponseError.
 */
export function handler<P, R>(fn: (params: P | undefined, token: CancellationToken) => R | Promise<R>): (...args: unknown[]) => Promise<R> {
  return async (...args: unknown[]): Promise<R> => {
    const token = args.find((a) => CancellationToken.is(a)) ?? CancellationToken.None;
    const params = (args.length > 0 && !CancellationToken.is(args[0]) ? args[0] : undefined) as P | undefined;
    try {
      const r = await fn(params, token);
      if (token.isCancellationRequested) throw new CancelledError();
      return r;
    } catch (e) {
      throw toResponseError(e);
    }
  };
}

/**
 * The one way a request reaches the model. During a load it waits for that load (following a newer one when the
 * settings change meanwhile, at most the load timeout: modelHost.ts), so every request behaves alike while the
 * model loads. When no model could be loaded: ModelNotLoadedError (ServerNotInitialized) with the load's own error.
 */
export async function session(s: Pick<Server, 'host'>): Promise<ModelBackend> {
  try {
    return await s.host.session();
  } catch (e) {
    throw new ModelNotLoadedError(`the model is not loaded: ${(e as Error)?.message ?? String(e)}`);
  }
}

/** An open document, or DocumentNotOpenError (InvalidParams naming `field`). `uri` must already be a string. */
export function openDocument(s: Pick<Server, 'documents'>, uri: string, field = 'textDocument.uri'): TextDocument {
  const doc = s.documents.get(uri);
  if (!doc) throw new DocumentNotOpenError(uri, field);
  return doc;
}

/** The trace's routing for the document as it is now, if one is open for it. */
export const tracedRouting = (s: Pick<Server, 'traces' | 'documents'>, uri: string): RoutingResult | undefined => s.traces.get(uri, s.documents.get(uri)?.version);

/**
 * The document's current routing: its engine trace when one is open, else the analysis (waiting for it). A load
 * failure surfaces as ModelNotLoadedError, as `session` does.
 */
export async function currentRouting(s: Pick<Server, 'traces' | 'documents' | 'analyses' | 'state'>, uri: string): Promise<RoutingResult> {
  const traced = tracedRouting(s, uri);
  if (traced) return traced;
  try {
    return await s.analyses.get(uri);
  } catch (e) {
    if (e instanceof ModelLoadError || s.state.status.state === 'error') {
      throw new ModelNotLoadedError(`the model is not loaded: ${s.state.status.message ?? (e as Error).message}`);
    }
    throw e;
  }
}

// The requests about one document's routing — moeLens/routing, textDocument/hover — and the server-state requests
// (moeLens/status, moeLens/getSteering, moeLens/setSteering) and moeLens/visibleRanges. Every failure goes through
// errors.ts: a client's mistake is InvalidParams naming the field, never an InternalError with a TypeError's text.
import type { Hover, HoverParams } from 'vscode-languageserver/node';
import { Methods, type PackedRoutingResult, type RoutingParams, type RoutingResult, type SteeringState, type VisibleRangesParams } from '../../common/protocol';
import { steeringRefusal } from '../model/backend';
import { ModelLoadError } from '../model/errors';
import { tokenAt } from '../../common/tokens';
import { validateRules } from '../routing/expertBias';
import { DocumentNotOpenError, mapped, ModelNotLoadedError, ParamsError, requireObject, requirePosition, requireTextDocumentUri, UnsupportedError } from './errors';
import { hoverMarkdown } from './hoverMarkdown';
import { setStatus, type Server } from './serverState';

/** vscode-jsonrpc passes (params, token), or only (token) for a request sent without params. */
const paramsOf = (args: unknown[]): unknown => (args.length > 1 ? args[0] : undefined);

/** The trace's routing for the document as it is now, if one is open for it. */
export const tracedRouting = (s: Pick<Server, 'traces' | 'documents'>, uri: string): RoutingResult | undefined => s.traces.get(uri, s.documents.get(uri)?.version);

/** A routing result, or a clear "not loaded" error when the model failed (the status has the cause). */
async function routingOf(s: Server, uri: string): Promise<RoutingResult> {
  try {
    return await s.analyses.get(uri);
  } catch (e) {
    if (e instanceof ModelLoadError || s.state.status.state === 'error') {
      throw new ModelNotLoadedError(`the model is not loaded: ${s.state.status.message ?? (e as Error).message}`);
    }
    throw e;
  }
}

export function registerRoutingHandlers(s: Server): void {
  const { connection, documents, analyses, replies, state } = s;

  connection.onRequest(Methods.routing, (...args: unknown[]): Promise<RoutingResult | PackedRoutingResult> =>
    mapped(async () => {
      const params = paramsOf(args) as RoutingParams;
      const uri = requireTextDocumentUri(params, 'moeLens/routing');
      const doc = documents.get(uri);
      if (!doc) throw new DocumentNotOpenError(uri);
      if (params.encoding !== undefined && params.encoding !== 'json' && params.encoding !== 'packed') throw new ParamsError('moeLens/routing: "encoding" must be "json" or "packed"');
      const fromTrace = tracedRouting(s, uri);
      if (fromTrace) return replies.reply(params, fromTrace);
      const partial = params.partial ? analyses.partial(uri, doc.version) : undefined;
      const r = partial ?? (await routingOf(s, uri));
      // closed while it ran: answer, but remember nothing for a document that is gone
      return replies.reply(params, r, !!documents.get(uri));
    }),
  );

  connection.onHover((...args: unknown[]): Promise<Hover | null> =>
    mapped(async () => {
      const params = paramsOf(args) as HoverParams;
      const uri = requireTextDocumentUri(params, 'textDocument/hover');
      const position = requirePosition(params, 'textDocument/hover');
      const doc = documents.get(uri);
      if (!doc) throw new DocumentNotOpenError(uri);
      let r: RoutingResult;
      try {
        r = tracedRouting(s, uri) ?? (await analyses.get(uri));
      } catch {
        return null; // hover is best effort: errors show in the status bar, not in a popup
      }
      const current = documents.get(uri);
      if (!current || current.version !== r.version) return null;
      const t = tokenAt(r.offsets, current.offsetAt(position));
      if (t < 0 || (r.offsets[2 * t + 1] <= r.offsets[2 * t] && t === r.tokens - 1)) return null;
      const session = await s.host.session();
      return {
        contents: { kind: 'markdown', value: hoverMarkdown(r, t, session.tokenizer.tokenText(r.ids[t]), state.status.model?.labels) },
        range: { start: current.positionAt(r.offsets[2 * t]), end: current.positionAt(r.offsets[2 * t + 1]) },
      };
    }),
  );

  connection.onRequest(Methods.getStatus, () => state.status);
  connection.onRequest(Methods.getSteering, (): SteeringState => ({ rules: state.rules }));
  connection.onRequest(Methods.setSteering, (...args: unknown[]): Promise<SteeringState> =>
    mapped(async () => {
      const params = requireObject(paramsOf(args), 'moeLens/setSteering');
      const session = await s.host.session();
      const refusal = steeringRefusal(session);
      if (refusal && Array.isArray(params.rules) && params.rules.length > 0) throw new UnsupportedError(`steering is not available: ${refusal}`);
      state.rules = validateRules(params.rules, session.info);
      analyses.invalidateAll();
      setStatus(s, {});
      for (const d of documents.all()) analyses.schedule(d.uri);
      return { rules: state.rules };
    }),
  );

  // Only open documents are remembered, plus a few about to open (visibleOffsets.ts).
  connection.onNotification(Methods.visibleRanges, (p: VisibleRangesParams) => s.visible.note(p));
}

// The requests about one document's routing — moeLens/routing, textDocument/hover — and the server-state requests
// (moeLens/status, moeLens/getSteering, moeLens/setSteering) and moeLens/visibleRanges. Every failure goes through
// errors.ts: a client's mistake is InvalidParams naming the field, never an InternalError with a TypeError's text.
import type { Hover, HoverParams } from 'vscode-languageserver/node';
import { Methods, type PackedRoutingResult, type RoutingParams, type RoutingResult, type ServerStatus, type SteeringState, type VisibleRangesParams } from '../../common/protocol';
import { steeringRefusal, type ModelBackend } from '../model/backend';
import { tokenAt } from '../../common/tokens';
import { validateRules } from '../routing/expertBias';
import { isAnalysedScheme } from '../../common/analysedDocuments';
import { ParamsError, requireObject, requirePosition, requireTextDocumentUri, UnsupportedError } from './errors';
import { hoverMarkdown } from './hoverMarkdown';
import { currentRouting, handler, openDocument, session } from './requests';
import { setStatus, type Server } from './serverState';

export function registerRoutingHandlers(s: Server): void {
  const { connection, documents, analyses, replies, state } = s;

  connection.onRequest(
    Methods.routing,
    handler(async (params: RoutingParams | undefined): Promise<RoutingResult | PackedRoutingResult> => {
      const uri = requireTextDocumentUri(params, 'moeLens/routing');
      if (!isAnalysedScheme(uri)) throw new ParamsError(`moeLens/routing: ${uri.split(':')[0]}: documents are not analysed (common/analysedDocuments.ts)`);
      const doc = openDocument(s, uri);
      const p = params!;
      if (p.encoding !== undefined && p.encoding !== 'json' && p.encoding !== 'packed') throw new ParamsError('moeLens/routing: "encoding" must be "json" or "packed"');
      const partial = p.partial ? analyses.partial(uri, doc.version) : undefined;
      const r = partial ?? (await currentRouting(s, uri));
      // closed while it ran: answer, but remember nothing for a document that is gone
      return replies.reply(p, r, !!documents.get(uri));
    }),
  );

  connection.onHover(
    handler(async (params: HoverParams | undefined): Promise<Hover | null> => {
      const uri = requireTextDocumentUri(params, 'textDocument/hover');
      const position = requirePosition(params, 'textDocument/hover');
      if (!isAnalysedScheme(uri)) return null; // a continuation, diff original or output: no routing, no error
      openDocument(s, uri);
      let r: RoutingResult;
      let model: ModelBackend;
      try {
        r = await currentRouting(s, uri);
        model = await session(s);
      } catch {
        return null; // hover is best effort: errors show in the status bar, not in a popup
      }
      const current = documents.get(uri);
      if (!current || current.version !== r.version) return null;
      const t = tokenAt(r.offsets, current.offsetAt(position));
      if (t < 0 || (r.offsets[2 * t + 1] <= r.offsets[2 * t] && t === r.tokens - 1)) return null;
      return {
        contents: { kind: 'markdown', value: hoverMarkdown(r, t, model.tokenizer.tokenText(r.ids[t]), state.status.model?.labels, state.settings.hover) },
        range: { start: current.positionAt(r.offsets[2 * t]), end: current.positionAt(r.offsets[2 * t + 1]) },
      };
    }),
  );

  connection.onRequest(Methods.getStatus, handler((): ServerStatus => state.status));
  connection.onRequest(Methods.getSteering, handler((): SteeringState => ({ rules: state.rules })));
  connection.onRequest(
    Methods.setSteering,
    handler(async (raw: unknown): Promise<SteeringState> => {
      const params = requireObject(raw, 'moeLens/setSteering');
      const model = await session(s);
      const refusal = steeringRefusal(model);
      if (refusal && Array.isArray(params.rules) && params.rules.length > 0) throw new UnsupportedError(`steering is not available: ${refusal}`);
      state.rules = validateRules(params.rules, model.info);
      analyses.invalidateAll();
      setStatus(s, {});
      for (const d of documents.all()) analyses.schedule(d.uri);
      return { rules: state.rules };
    }),
  );

  // Only open documents are remembered, plus a few about to open (visibleOffsets.ts).
  connection.onNotification(Methods.visibleRanges, (p: VisibleRangesParams) => s.visible.note(p));
}

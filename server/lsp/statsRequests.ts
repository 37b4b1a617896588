// moeLens/stats (routing statistics over documents, files and the profile corpus; progress, cancellable) and
// moeLens/openTrace / moeLens/closeTrace (a document's routing from an engine trace). main.ts registers them once.
// moeLens/stats is registered by its method name, not its typed object: vscode-jsonrpc refuses a typed request that
// arrives without params before the handler runs, and "nothing to count" tells a script more than "defines 1 params".
import { CloseTraceRequest, Methods, OpenTraceRequest, StatsProgressNotification, StatsRequest, type OpenTraceParams, type OpenTraceResult, type StatsParams, type StatsProgress, type StatsResult } from '../../common/protocol';
import { collectStats, profileTexts, type StatsText } from '../stats/collectStats';
import { ParamsError } from './errors';
import { handler, openDocument, session, tracedRouting } from './requests';
import type { Server } from './serverState';
import { readSourceFile } from './sourceFiles';

/** At most this many texts per request: a workspace glob can match thousands of files. */
export const MAX_STATS_TEXTS = 500;

/** An open document (its trace when one is open), else a file: uri read from disk when its turn comes. */
function statsText(s: Server, uri: string): StatsText {
  const doc = s.documents.get(uri);
  if (doc) {
    const traced = tracedRouting(s, uri);
    return traced ? { name: uri, routing: traced } : { name: uri, text: doc.getText() };
  }
  if (!uri.startsWith('file:')) throw new ParamsError(`uris: ${uri} is neither open nor a file: uri`);
  return {
    name: uri,
    text: () => readSourceFile(uri, 'uris'),
  };
}

/** A document's routing source changed (trace opened or closed): the client asks for its routing again. */
export function routingSourceChanged(s: Server, uri: string): void {
  const d = s.documents.get(uri);
  if (d) void s.connection.sendNotification(Methods.routingChanged, { uri, version: d.version });
}

export function registerStatsRequests(s: Server): void {
  const { connection, state } = s;
  connection.onRequest(
    StatsRequest.method,
    handler(async (params: StatsParams | undefined, token): Promise<StatsResult> => {
      const p = params ?? {};
      if (p.uris !== undefined && !(Array.isArray(p.uris) && p.uris.every((u) => typeof u === 'string'))) throw new ParamsError('"uris" must be a list of document uris');
      const model = await session(s);
      const texts = (p.uris ?? []).map((u) => statsText(s, u));
      if (p.profileCorpus) {
        const profile = profileTexts(model);
        if (!profile.length) throw new ParamsError(`the model ${model.info.name} has no profile corpus`);
        texts.push(...profile);
      }
      if (!texts.length) throw new ParamsError('nothing to count: give "uris" or "profileCorpus": true');
      if (texts.length > MAX_STATS_TEXTS) throw new ParamsError(`${texts.length} texts: at most ${MAX_STATS_TEXTS} per request`);
      const id = p.progressId ?? 'stats';
      return collectStats(model, texts, {
        maxTokens: state.settings.maxTokens,
        rules: state.rules,
        isCancelled: () => token.isCancellationRequested,
        onProgress: (done, total, file) => void connection.sendNotification(StatsProgressNotification.method, { id, done, total, file } satisfies StatsProgress),
      });
    }),
  );

  connection.onRequest(
    OpenTraceRequest.method,
    handler(async (p: OpenTraceParams | undefined): Promise<OpenTraceResult> => {
      if (typeof p?.uri !== 'string' || typeof p?.path !== 'string') throw new ParamsError('openTrace needs "uri" (the document) and "path" (the trace file)');
      const doc = openDocument(s, p.uri, 'uri');
      const r = await s.traces.open(p.uri, p.path, { text: doc.getText(), version: doc.version }, await session(s));
      routingSourceChanged(s, p.uri);
      return r;
    }),
  );

  connection.onRequest(
    CloseTraceRequest.method,
    handler((p: { uri?: unknown } | undefined): boolean => {
      const had = typeof p?.uri === 'string' && s.traces.close(p.uri);
      if (had) routingSourceChanged(s, p.uri as string);
      return had;
    }),
  );
}

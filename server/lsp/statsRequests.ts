// moeLens/stats (routing statistics over documents, files and the profile corpus; progress, cancellable) and
// moeLens/openTrace / moeLens/closeTrace (a document's routing from an engine trace). main.ts registers them once.
// moeLens/stats is registered by its method name, not its typed object: vscode-jsonrpc refuses a typed request that
// arrives without params before the handler runs, and "nothing to count" tells a script more than "defines 1 params".
import type { CancellationToken, Connection } from 'vscode-languageserver/node';
import { CloseTraceRequest, OpenTraceRequest, StatsProgressNotification, StatsRequest, type OpenTraceParams, type OpenTraceResult, type RoutingResult, type StatsParams, type StatsProgress, type StatsResult, type SteeringRule } from '../../common/protocol';
import { CancelledError } from '../analysis/analyzer';
import type { ModelBackend } from '../model/backend';
import { collectStats, profileTexts, type StatsText } from '../stats/collectStats';
import { ParamsError, toResponseError } from './errors';
import { readSourceFile } from './sourceFiles';
import type { TraceDocuments } from './traceDocuments';

/** At most this many texts per request: a workspace glob can match thousands of files. */
export const MAX_STATS_TEXTS = 500;

export interface StatsDeps {
  session(): Promise<ModelBackend>;
  rules(): readonly SteeringRule[];
  maxTokens(): number;
  document(uri: string): { text: string; version: number } | undefined;
  traces: TraceDocuments;
  /** a document's routing source changed (trace opened or closed): tell the client */
  onRoutingSourceChanged(uri: string): void;
}

const invalid = (m: string) => new ParamsError(m);

/** An open document (its trace when one is open), else a file: uri read from disk when its turn comes. */
function statsText(deps: StatsDeps, uri: string): StatsText {
  const doc = deps.document(uri);
  if (doc) {
    const traced: RoutingResult | undefined = deps.traces.get(uri, doc.version);
    return traced ? { name: uri, routing: traced } : { name: uri, text: doc.text };
  }
  if (!uri.startsWith('file:')) throw invalid(`uris: ${uri} is neither open nor a file: uri`);
  return {
    name: uri,
    text: () => readSourceFile(uri, 'uris'),
  };
}

export function registerStatsRequests(connection: Connection, deps: StatsDeps): void {
  connection.onRequest(StatsRequest.method, async (...args: unknown[]): Promise<StatsResult> => {
    // vscode-jsonrpc passes (params, token), or only (token) for a request sent without params
    const token = args[args.length - 1] as CancellationToken;
    const p = ((args.length > 1 ? args[0] : undefined) ?? {}) as StatsParams;
    try {
      if (p.uris !== undefined && !(Array.isArray(p.uris) && p.uris.every((u) => typeof u === 'string'))) throw invalid('"uris" must be a list of document uris');
      const session = await deps.session();
      const texts = (p.uris ?? []).map((u) => statsText(deps, u));
      if (p.profileCorpus) {
        const profile = profileTexts(session);
        if (!profile.length) throw invalid(`the model ${session.info.name} has no profile corpus`);
        texts.push(...profile);
      }
      if (!texts.length) throw invalid('nothing to count: give "uris" or "profileCorpus": true');
      if (texts.length > MAX_STATS_TEXTS) throw invalid(`${texts.length} texts: at most ${MAX_STATS_TEXTS} per request`);
      const id = p.progressId ?? 'stats';
      const r = await collectStats(session, texts, {
        maxTokens: deps.maxTokens(),
        rules: deps.rules(),
        isCancelled: () => token.isCancellationRequested,
        onProgress: (done, total, file) => void connection.sendNotification(StatsProgressNotification.method, { id, done, total, file } satisfies StatsProgress),
      });
      if (token.isCancellationRequested) throw new CancelledError();
      return r;
    } catch (e) {
      throw toResponseError(e);
    }
  });

  connection.onRequest(OpenTraceRequest.method, async (p: OpenTraceParams): Promise<OpenTraceResult> => {
    try {
      if (typeof p?.uri !== 'string' || typeof p?.path !== 'string') throw invalid('openTrace needs "uri" (the document) and "path" (the trace file)');
      const doc = deps.document(p.uri);
      if (!doc) throw invalid(`document ${p.uri} is not open`);
      const r = await deps.traces.open(p.uri, p.path, doc, await deps.session());
      deps.onRoutingSourceChanged(p.uri);
      return r;
    } catch (e) {
      throw toResponseError(e);
    }
  });

  connection.onRequest(CloseTraceRequest.method, (p: { uri: string }): boolean => {
    const had = typeof p?.uri === 'string' && deps.traces.close(p.uri);
    if (had) deps.onRoutingSourceChanged(p.uri);
    return had;
  });
}

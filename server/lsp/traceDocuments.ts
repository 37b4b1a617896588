// Documents whose routing comes from an engine trace (moeLens/openTrace): the trace's RoutingResult for the document
// version it was opened on. Any other version (the text changed) drops it, and routing goes back to the model.
import type { OpenTraceResult, RoutingResult } from '../../common/protocol';
import type { ModelSession } from '../model/modelSession';
import { TraceError } from '../trace/engineTrace';
import { readTrace } from '../trace/readTrace';
import { traceRouting } from '../trace/traceRouting';

export class TraceDocuments {
  private readonly byUri = new Map<string, RoutingResult>();

  /** Reads and checks the trace against the document's text (throws TraceError naming file and field). */
  async open(uri: string, path: string, doc: { text: string; version: number }, session: ModelSession): Promise<OpenTraceResult> {
    const trace = await readTrace(path, session.info);
    let r: RoutingResult;
    try {
      r = traceRouting(trace, session.tokenizer.encode(doc.text), session.info, { file: path, version: doc.version });
    } catch (e) {
      if (e instanceof TraceError) throw new TraceError(`${path}: ${e.message}`);
      throw e;
    }
    this.byUri.set(uri, r);
    return { engine: trace.engine, tokens: r.tokens, notRecorded: r.notRecorded?.length ?? 0 };
  }

  /** The trace's routing when it was opened on this very version; a stale one is dropped. */
  get(uri: string, version: number | undefined): RoutingResult | undefined {
    const r = this.byUri.get(uri);
    if (r && r.version !== version) this.byUri.delete(uri);
    return r && r.version === version ? r : undefined;
  }

  /** Whether the document had a trace open. */
  close(uri: string): boolean {
    return this.byUri.delete(uri);
  }

  clear(): void {
    this.byUri.clear();
  }
}

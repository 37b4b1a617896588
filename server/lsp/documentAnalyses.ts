import type { RoutingResult, SteeringRule } from '../../common/protocol';
import { analyzeText, CancelledError } from '../analysis/analyzer';
import type { ModelSession } from '../model/modelSession';
import { steeringKey } from '../routing/steering';

interface Entry {
  version: number;
  key: string;
  promise: Promise<RoutingResult>;
  result?: RoutingResult;
}

export interface AnalysisContext {
  session(): Promise<ModelSession>;
  rules(): readonly SteeringRule[];
  maxTokens(): number;
  text(uri: string): { text: string; version: number } | undefined;
  onResult(uri: string, result: RoutingResult): void;
  /** an analysis of this document starts (uri) or the queue ran dry (undefined): for the "analysing" status */
  onBusy?(uri: string | undefined): void;
}

/**
 * One routing result per open document, for its newest version and the current steering state. Model calls run
 * one at a time (a queue), each document alone; a newer version or a steering change makes an older analysis
 * stop at its next window and never overwrite the newer one.
 */
export class DocumentAnalyses {
  private readonly entries = new Map<string, Entry>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(private readonly ctx: AnalysisContext, private readonly debounceMs = 150) {}

  /** Debounced analysis after an edit: typing fast analyses only the last version. */
  schedule(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.set(uri, setTimeout(() => {
      this.timers.delete(uri);
      this.get(uri).catch(() => undefined);
    }, this.debounceMs));
  }

  /** The result for the document's current version and steering state (analysing it now if needed). */
  get(uri: string): Promise<RoutingResult> {
    const doc = this.ctx.text(uri);
    if (!doc) return Promise.reject(new Error(`document ${uri} is not open`));
    const key = steeringKey(this.ctx.rules());
    const cur = this.entries.get(uri);
    if (cur && cur.version === doc.version && cur.key === key) return cur.promise;
    const entry: Entry = { version: doc.version, key, promise: Promise.resolve() as unknown as Promise<RoutingResult> };
    const stale = () => this.entries.get(uri) !== entry;
    entry.promise = this.enqueue(async () => {
      if (stale()) throw new CancelledError();
      const session = await this.ctx.session();
      const latest = this.ctx.text(uri);
      if (!latest || latest.version !== doc.version) throw new CancelledError();
      const rules = this.ctx.rules();
      this.ctx.onBusy?.(uri);
      const result = await analyzeText(session, latest.text, latest.version, { maxTokens: this.ctx.maxTokens(), rules, withBaseline: rules.length > 0, isCancelled: stale });
      entry.result = result;
      if (!stale()) this.ctx.onResult(uri, result);
      return result;
    });
    this.entries.set(uri, entry);
    // A superseded analysis (newer version, steering or model change) resolves to the newest one while the document
    // is open, so no caller sees an old version or a cancellation.
    const settled = entry.promise.catch((e) => {
      if (e instanceof CancelledError && this.entries.get(uri) !== entry && this.ctx.text(uri)) return this.get(uri);
      throw e;
    });
    return settled;
  }

  /** A finished result for this exact version, without starting work (hover answers from it). */
  cached(uri: string, version: number): RoutingResult | undefined {
    const e = this.entries.get(uri);
    return e && e.version === version && e.key === steeringKey(this.ctx.rules()) ? e.result : undefined;
  }

  forget(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    this.entries.delete(uri);
  }

  /** Drops every result (steering or model changed). */
  invalidateAll(): void {
    this.entries.clear();
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    this.pending++;
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => undefined).then(() => {
      if (--this.pending === 0) this.ctx.onBusy?.(undefined);
    });
    return run;
  }
}

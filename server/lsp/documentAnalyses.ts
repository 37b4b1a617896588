import type { RoutingResult, SteeringRule } from '../../common/protocol';
import { isAnalysedScheme } from '../../common/analysedDocuments';
import { CancelledError, partialResult } from '../analysis/analyzer';
import { cellSlice, contextText } from '../analysis/cellContext';
import { analyzeIncremental, cacheBytes, type IncrementalAnalysis, type IncrementalStats } from '../analysis/incremental';
import type { ModelBackend } from '../model/backend';
import { steeringKey } from '../routing/expertBias';
import { JobQueue } from '../analysis/jobQueue';
import { analysing, analysisFailed, partialReady, resultReady } from './analysisEvents';
import { DocumentNotOpenError } from './errors';
import { ForegroundActivity } from './foregroundActivity';
import { cellPrefix } from './notebookCells';
import { session } from './requests';
import type { Server } from './serverState';

interface Entry {
  version: number;
  key: string;
  /** the text read before the document (a notebook cell's cells above); "" for none */
  prefix: string;
  promise: Promise<RoutingResult>;
  result?: RoutingResult;
  /** while a long document runs: its windows finished so far (RoutingResult.partial; the one on screen first) */
  partial?: RoutingResult;
}

/**
 * While a long document runs, its finished windows are published at most this often (the window on screen, when it
 * ran ahead of the others, at once); a short document is done before the first publication.
 * MOE_LENS_PARTIAL_AFTER_MS overrides it (tests set 0: a partial result after every window).
 */
const PARTIAL_AFTER_MS = Number(process.env.MOE_LENS_PARTIAL_AFTER_MS ?? 200);

/**
 * What the next analysis of a document continues from: the last analysis per steering key, each with the KV cache of
 * every window. At most two keys: "" (unsteered — also the baseline shown under steering) and the latest steered key,
 * so switching steering off and on again, or editing while steered, both stay incremental.
 */
interface Continuation {
  /** the session the caches were computed on: a reload (other weights, other provider) starts over */
  session: ModelBackend;
  byKey: Map<string, IncrementalAnalysis>;
}

/**
 * KV caches kept for the next edit, all documents together. The embedded model's cache costs 4 KiB per token
 * (4 layers × keys and values × 128 floats), a 4k-token document 16 MiB per steering key; beyond the budget the least
 * recently analysed documents lose theirs (their next analysis is a full pass, their results stay).
 */
const CACHE_BUDGET_BYTES = 64 * 2 ** 20;

/** A document as the analysis reads it. */
export interface DocumentText {
  text: string;
  version: number;
  /**
   * Text the model reads before the document's own (a notebook cell's cells above, cellContext.ts), from `cells`
   * cells; only the document's own tokens are reported. A change of it is a new analysis at the same version.
   */
  prefix?: { text: string; cells: number };
}

/**
 * What the analyses read of the server: the one dependency object every handler takes (serverState.ts), all but the
 * analyses themselves — the model through `session` (requests.ts), the documents and notebook cells, the steering
 * state and settings, the window on screen (`visible`), the inbox (lsp/inbox.ts: its messages are handled before
 * each model call, and background work waits for a quiet client) and the connection the results are announced on
 * (analysisEvents.ts).
 */
export type AnalysisServer = Pick<Server, 'connection' | 'documents' | 'host' | 'state' | 'visible' | 'notebookCells' | 'inbox'>;

/** Queue priorities (lower runs first): documents 0 (obsolete) to 2; background work after them unless overdue. */
const BACKGROUND = 3;
const OVERDUE_BACKGROUND = 0.5;

/**
 * One routing result per open document, for its newest version and the current steering state. Model calls run
 * one at a time (a queue: obsolete jobs first, then documents on screen, then arrival order), each document alone; a
 * change to the document (changed()), a steering change or a newer request makes an older analysis stop at its next
 * window and never overwrite the newer one. A new version is analysed incrementally
 * (server/analysis/incremental.ts): only the tokens from the first changed one on run through the model.
 */
export class DocumentAnalyses {
  private readonly entries = new Map<string, Entry>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** insertion order = least recently analysed first (for the cache budget) */
  private readonly continuations = new Map<string, Continuation>();
  private readonly queue: JobQueue;
  /** the document the last onBusy named (undefined: none) */
  private busy: string | undefined;
  private readonly foreground: ForegroundActivity;

  constructor(private readonly s: AnalysisServer, private readonly debounceMs = 150) {
    this.queue = new JobQueue(() => this.setBusy(undefined));
    this.foreground = new ForegroundActivity(() => this.timers.size > 0, { lastMessageAt: s.inbox && (() => s.inbox!.lastArrival) });
  }

  private setBusy(uri: string | undefined): void {
    this.busy = uri;
    analysing(this.s, uri);
  }

  /** The document as the model reads it: a notebook cell after the cells above it (moeLens.notebook.context). */
  private text(uri: string): DocumentText | undefined {
    const d = this.s.documents.get(uri);
    if (!d) return undefined;
    const prefix = cellPrefix(this.s, uri);
    return { text: d.getText(), version: d.version, ...(prefix ? { prefix } : {}) };
  }

  private get rules(): readonly SteeringRule[] {
    return this.s.state.rules;
  }

  /** Resolves once the messages that arrived so far are handled (edits, closes): awaited before each model call. */
  private drainMessages(): Promise<void> {
    return this.s.inbox?.drained() ?? Promise.resolve();
  }

  /** Debounced analysis after an edit: typing fast analyses only the last version. */
  schedule(uri: string): void {
    // Only documents of an analysed scheme (common/analysedDocuments.ts); another client may sync anything it has open.
    if (!isAnalysedScheme(uri)) return;
    clearTimeout(this.timers.get(uri));
    this.timers.set(uri, setTimeout(() => {
      this.timers.delete(uri);
      this.get(uri).catch((e) => {
        if (!(e instanceof CancelledError)) analysisFailed(this.s, uri, e);
      });
    }, this.debounceMs));
  }

  /**
   * The document changed: its result is dropped at once — a running analysis of the old text stops at its next
   * window, and a change that repeats a version number is not served the old result — then a new one is scheduled.
   */
  changed(uri: string): void {
    this.entries.delete(uri);
    this.schedule(uri);
  }

  /** The result for the document's current version and steering state (analysing it now if needed). */
  get(uri: string): Promise<RoutingResult> {
    const doc = this.text(uri);
    if (!doc) return Promise.reject(new DocumentNotOpenError(uri));
    const key = steeringKey(this.rules);
    const cur = this.entries.get(uri);
    const prefix = doc.prefix?.text ?? '';
    if (cur && cur.version === doc.version && cur.key === key && cur.prefix === prefix) return cur.promise;
    const entry: Entry = { version: doc.version, key, prefix, promise: Promise.resolve() as unknown as Promise<RoutingResult> };
    const stale = () => this.entries.get(uri) !== entry;
    this.entries.set(uri, entry); // before the job can start (the queue may start it at once)
    this.foreground.begin();
    entry.promise = this.queue.run(async () => {
      await this.drainMessages();
      if (stale()) throw new CancelledError();
      const model = await session(this.s);
      const latest = this.text(uri);
      if (!latest || latest.version !== doc.version || (latest.prefix?.text ?? '') !== prefix) throw new CancelledError();
      this.setBusy(uri);
      const result = await this.analyse(uri, model, latest, this.rules, stale, (p) => {
        entry.partial = p;
        if (!stale()) partialReady(this.s, uri, p);
      });
      entry.result = result;
      entry.partial = undefined;
      if (!stale()) resultReady(this.s, uri, result);
      return result;
    }, () => (stale() ? 0 : this.s.visible.get(uri) !== undefined ? 1 : 2));
    void entry.promise.catch(() => undefined).finally(() => this.foreground.end());
    // A superseded analysis (newer version, steering or model change) resolves to the newest one while the document
    // is open, so no caller sees an old version or a cancellation.
    const settled = entry.promise.catch((e) => {
      if (e instanceof CancelledError && this.entries.get(uri) !== entry && this.s.documents.get(uri)) return this.get(uri);
      throw e;
    });
    return settled;
  }

  /**
   * Runs `modelCall` (one window of background work: the expert labels' profiling pass at load) on the model queue
   * once the documents and the client are quiet, or once it has waited MAX_POSTPONE_MS (foregroundActivity.ts): then
   * it goes before the next document job, so a client that never pauses still gets its labels. Without the wait the
   * labels' windows alternated with the first document's at load and then held up its reply (bench/lspOnly.ts).
   */
  async background<T>(modelCall: () => Promise<T>): Promise<T> {
    for (;;) {
      await this.drainMessages(); // a didOpen or a request that arrived during the last window counts first
      for (let wait = this.foreground.backgroundIn(); wait > 0; wait = this.foreground.backgroundIn()) await new Promise((r) => setTimeout(r, wait));
      // a document may have come in meanwhile: it runs first (lower priority value), and this call waits again
      const done = await this.queue.run(async () => {
        if (this.foreground.backgroundIn() > 0) return undefined;
        this.foreground.backgroundStarted();
        if (this.busy !== undefined) this.setBusy(undefined); // the status's "Analysing …" is over
        return { value: await modelCall() };
      }, () => (this.foreground.overdue ? OVERDUE_BACKGROUND : BACKGROUND));
      if (done) return done.value;
    }
  }

  /** The windows of this version finished so far while its analysis runs (undefined when none, or when it is done). */
  partial(uri: string, version: number): RoutingResult | undefined {
    const e = this.entries.get(uri);
    return e && e.version === version && e.key === steeringKey(this.rules) && e.prefix === (this.text(uri)?.prefix?.text ?? '') && !e.result ? e.partial : undefined;
  }

  forget(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    this.entries.delete(uri);
    this.continuations.delete(uri);
  }

  /**
   * Drops every result (steering, model or maxTokens changed). The KV caches stay: each is tagged with its steering
   * key and checked against the session and model hash before it is continued, so a steering change re-runs only the
   * steered pass (the unsteered baseline continues) and a model change starts over.
   */
  invalidateAll(): void {
    this.entries.clear();
  }

  /**
   * Unsteered: one incremental pass. Steered: the steered pass and the unsteered baseline, each continuing its own
   * cache — the baseline is the unsteered analysis itself, so turning steering off again reuses it unchanged.
   */
  private async analyse(uri: string, session: ModelBackend, doc: DocumentText, rules: readonly SteeringRule[], isCancelled: () => boolean, onPartial: (p: RoutingResult) => void): Promise<RoutingResult> {
    const started = performance.now();
    // A notebook cell in context: the model reads prefix + cell (its KV cache continues when only the cell changed)
    // and the result is cut back to the cell's tokens. Its partial results would be in the combined text's
    // coordinates; a cell that fits one window has none anyway, so none are published.
    const cell = doc.prefix && contextText(session.tokenizer, doc.prefix.text, doc.prefix.cells, doc.text, session.info.contextLength);
    const { text, version } = cell ? { text: cell.text, version: doc.version } : doc;
    // Unsteered only: a steered partial would lack the baseline its views compare against. The window on screen,
    // when it ran ahead of the windows above it, is published at once; after that at most every PARTIAL_AFTER_MS.
    let published = started;
    let last = '';
    const onWindow = rules.length || cell ? undefined : (r: RoutingResult, from: number, to: number) => {
      const block = `${from}:${to}`;
      if (block === last) return;
      const visibleFirst = last === '' && from > 0;
      if (!visibleFirst && performance.now() - published < PARTIAL_AFTER_MS) return;
      published = performance.now();
      last = block;
      onPartial(partialResult(r, from, to));
    };
    let cont = this.continuations.get(uri);
    if (cont && cont.session !== session) cont = undefined;
    const prev = cont?.byKey ?? new Map<string, IncrementalAnalysis>();
    const beforeWindow = this.s.inbox && (() => this.drainMessages());
    const visible = this.s.visible.get(uri);
    const shift = cell ? cell.start : 0;
    const opts = { maxTokens: this.s.state.settings.maxTokens + (cell ? cell.prefixTokens : 0), rules, isCancelled, beforeWindow, onWindow, priorityOffset: visible === undefined ? undefined : visible + shift };
    const key = steeringKey(rules);
    const stats: IncrementalStats = { computed: 0, reused: 0 };
    const add = (s: IncrementalStats) => {
      stats.computed += s.computed;
      stats.reused += s.reused;
    };
    const keep = new Map<string, IncrementalAnalysis>();
    let result: RoutingResult;
    const s1: IncrementalStats = { computed: 0, reused: 0 };
    const main = await analyzeIncremental(session, text, version, opts, prev.get(key), s1);
    add(s1);
    if (rules.length > 0) {
      const s2: IncrementalStats = { computed: 0, reused: 0 };
      const base = await analyzeIncremental(session, text, version, { ...opts, rules: [] }, prev.get(''), s2);
      add(s2);
      keep.set('', base);
      result = { ...main.result, baselineExperts: base.result.experts };
    } else {
      // The latest steered analysis stays (its cache still serves when the same steering comes back).
      for (const [k, a] of prev) if (k !== '') keep.set(k, a);
      result = { ...main.result };
    }
    keep.set(key, main);
    // Re-inserted last: the most recently analysed document is evicted last. A document closed while this ran keeps
    // nothing (forget() already ran: its caches would stay until the budget pushed them out).
    this.continuations.delete(uri);
    if (this.s.documents.get(uri)) this.continuations.set(uri, { session, byKey: keep });
    this.trimCaches(uri);
    if (cell) result = cellSlice(result, cell.prefixTokens, cell.start, cell.context);
    result.incremental = stats;
    result.elapsedMs = Math.round(performance.now() - started);
    return result;
  }

  /** Keeps the caches within CACHE_BUDGET_BYTES, dropping least recently analysed documents first (never `current`). */
  private trimCaches(current: string): void {
    let total = 0;
    for (const c of this.continuations.values()) for (const a of c.byKey.values()) total += cacheBytes(a);
    for (const [uri, c] of this.continuations) {
      if (total <= CACHE_BUDGET_BYTES || uri === current) break;
      for (const a of c.byKey.values()) total -= cacheBytes(a);
      this.continuations.delete(uri);
    }
  }
}

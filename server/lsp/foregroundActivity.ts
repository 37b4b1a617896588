// What background model work (the expert labels' profiling pass at load) waits for: document analyses queued or
// running, and a short quiet period after the last one and after the last message from the client.
// onnxruntime-node runs a model call on the main thread and blocks the event loop for the whole call, so a
// background window started while the client waits for something holds it up by up to a window: a document's reply
// (about 1 MB of JSON for 4k tokens, handed to the transport over several event-loop turns), a hover, an edit.
// The wait has a bound: a client that never pauses (an edit or a request every < 100 ms) would otherwise postpone
// the labels for as long as it keeps busy. Once a window has waited MAX_POSTPONE_MS it is overdue and runs between
// two foreground jobs (DocumentAnalyses.background puts it ahead of the documents in the model queue); the next one
// waits afresh.

/** How long after the last analysis or message background work waits before its next model call. */
export const QUIET_MS = 100;

/**
 * How long one background window may be postponed. While the client keeps busy, one window runs per MAX_POSTPONE_MS:
 * a few percent of the model's time on the embedded model (a window of 512 tokens takes some 60 ms), and the labels'
 * pass (one window per 512 tokens of profile corpus) still ends.
 */
export const MAX_POSTPONE_MS = 2000;

export interface ForegroundOptions {
  /** when the transport last received a message (lsp/inbox.ts); absent where nothing counts them */
  lastMessageAt?: () => number;
  /** the clock (ms; performance.now()): tests drive their own */
  now?: () => number;
  maxPostponeMs?: number;
}

export class ForegroundActivity {
  private jobs = 0;
  private lastEnd = -Infinity;
  /** when the background window now waiting began to wait (undefined: none waits) */
  private waitingSince: number | undefined;
  private readonly now: () => number;
  private readonly maxPostponeMs: number;

  /** `pending`: documents about to be analysed (debounced edits) */
  constructor(private readonly pending: () => boolean, private readonly opts: ForegroundOptions = {}) {
    this.now = opts.now ?? (() => performance.now());
    this.maxPostponeMs = opts.maxPostponeMs ?? MAX_POSTPONE_MS;
  }

  /** A document analysis was queued. */
  begin(): void {
    this.jobs++;
  }

  /** ... and is over (answered, failed or cancelled). */
  end(): void {
    this.jobs--;
    this.lastEnd = this.now();
  }

  /** ms until the foreground is quiet: 0 once nothing is analysed, about to be, or just was, and the client is quiet. */
  quietIn(): number {
    if (this.jobs > 0 || this.pending()) return QUIET_MS;
    const last = Math.max(this.lastEnd, this.opts.lastMessageAt?.() ?? -Infinity);
    return Math.max(0, last + QUIET_MS - this.now());
  }

  /**
   * ms until the next background window may run: 0 once the foreground is quiet or the window is overdue. The first
   * call that finds the foreground busy starts the window's postponement.
   */
  backgroundIn(): number {
    const quiet = this.quietIn();
    if (quiet === 0) return 0;
    const now = this.now();
    this.waitingSince ??= now;
    return Math.max(0, Math.min(quiet, this.waitingSince + this.maxPostponeMs - now));
  }

  /** The waiting window has been postponed for MAX_POSTPONE_MS: it runs before the next document job. */
  get overdue(): boolean {
    return this.waitingSince !== undefined && this.now() - this.waitingSince >= this.maxPostponeMs;
  }

  /** A background window starts: the next one waits, and is postponed, afresh. */
  backgroundStarted(): void {
    this.waitingSince = undefined;
  }
}

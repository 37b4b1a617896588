// What background model work (the expert labels' profiling pass at load) waits for: document analyses queued or
// running, and a short quiet period after the last one and after the last message from the client.
// onnxruntime-node runs a model call on the main thread and blocks the event loop for the whole call, so a
// background window started while the client waits for something holds it up by up to a window: a document's reply
// (about 1 MB of JSON for 4k tokens, handed to the transport over several event-loop turns), a hover, an edit.

/** How long after the last analysis or message background work waits before its next model call. */
export const QUIET_MS = 100;

export class ForegroundActivity {
  private jobs = 0;
  private lastEnd = -Infinity;

  /**
   * `pending`: documents about to be analysed (debounced edits); `lastMessageAt`: when the transport last received a
   * message (performance.now(); lsp/inbox.ts), absent where nothing counts them (tests on an in-memory connection)
   */
  constructor(private readonly pending: () => boolean, private readonly lastMessageAt?: () => number) {}

  /** A document analysis was queued. */
  begin(): void {
    this.jobs++;
  }

  /** ... and is over (answered, failed or cancelled). */
  end(): void {
    this.jobs--;
    this.lastEnd = performance.now();
  }

  /** ms until background work may run: 0 once nothing is analysed, about to be, or just was, and the client is quiet. */
  quietIn(): number {
    if (this.jobs > 0 || this.pending()) return QUIET_MS;
    const last = Math.max(this.lastEnd, this.lastMessageAt?.() ?? -Infinity);
    return Math.max(0, last + QUIET_MS - performance.now());
  }
}

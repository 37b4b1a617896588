// Messages that have arrived but not been handled yet. vscode-jsonrpc handles one queued message per event-loop turn
// (one setImmediate each), and onnxruntime-node runs a model call on the main thread in a setImmediate of its own, so
// while an analysis runs, the server handled one incoming message per model window: a burst of 600 edits took a
// minute to even be read, and meanwhile the server analysed versions long superseded (issue 12 item 7). The analysis
// therefore lets the inbox drain before each model call: arrivals are counted at the transport (frames on stdio,
// messages on IPC), handled messages in the connection's message strategy.

/** At most this many turns per drain: a message that arrived but is never handled (say, unparsable) cannot stall. */
const MAX_TURNS = 2000;

export class Inbox {
  private arrived = 0;
  private handled = 0;
  /** when the last message arrived (performance.now()): background model work waits for a quiet client */
  lastArrival = -Infinity;

  /** a message arrived at the transport */
  arrive(): void {
    this.arrived++;
    this.lastArrival = performance.now();
  }

  /** the connection took one message off its queue (ConnectionOptions.messageStrategy) */
  handle(): void {
    this.handled++;
  }

  get pending(): number {
    return Math.max(0, this.arrived - this.handled);
  }

  /** Resolves once every message that has arrived has been handled (or after MAX_TURNS event-loop turns). */
  async drained(): Promise<void> {
    let stuck = 0;
    for (let turn = 0; turn < MAX_TURNS && this.pending > 0; turn++) {
      const before = this.pending;
      await new Promise((r) => setImmediate(r));
      stuck = this.pending >= before ? stuck + 1 : 0;
      // messages handled outside the queue (e.g. $/cancelRequest) are never counted: resynchronise when nothing moves
      if (stuck > 20) this.handled = this.arrived;
    }
  }
}

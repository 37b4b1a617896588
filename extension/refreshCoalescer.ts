// moeLens/routingChanged can arrive many times a second (every edit of a burst, every partial window). Fetching the
// result on each would bypass the debounce the edits already went through and queue stale requests on the server.
// This coalesces per document: a quiet period after the last notification, at most one fetch in flight, and one more
// after it when notifications came meanwhile. A complete result's notification wins over a partial one's. No vscode
// import: unit-tested in test/unit.

export class RefreshCoalescer {
  private readonly pending = new Map<string, { timer?: ReturnType<typeof setTimeout>; partial: boolean; inFlight: boolean; again: boolean }>();

  /** `fetch(uri, partial)` does the work; `quietMs`: how long after the last notification it starts */
  constructor(private readonly fetch: (uri: string, partial: boolean) => Promise<unknown>, private readonly quietMs = 50) {}

  notify(uri: string, partial = false): void {
    let p = this.pending.get(uri);
    if (!p) this.pending.set(uri, (p = { partial, inFlight: false, again: false }));
    else p.partial &&= partial; // one complete notification makes the next fetch a complete one
    if (p.inFlight) {
      p.again = true;
      return;
    }
    clearTimeout(p.timer);
    p.timer = setTimeout(() => void this.run(uri), this.quietMs);
  }

  /** Drops what is pending for one document (it closed); a fetch in flight finishes but is not repeated. */
  forget(uri: string): void {
    clearTimeout(this.pending.get(uri)?.timer);
    this.pending.delete(uri);
  }

  /** Drops everything pending (server restart, extension shutdown). */
  clear(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }

  private async run(uri: string): Promise<void> {
    const p = this.pending.get(uri);
    if (!p) return;
    p.timer = undefined;
    p.inFlight = true;
    const partial = p.partial;
    p.partial = true;
    try {
      await this.fetch(uri, partial);
    } catch {
      // the fetcher reports its own failures
    } finally {
      p.inFlight = false;
    }
    if (this.pending.get(uri) !== p) return;
    if (p.again) {
      p.again = false;
      p.timer = setTimeout(() => void this.run(uri), this.quietMs);
    } else this.pending.delete(uri);
  }
}

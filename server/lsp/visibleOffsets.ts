// The first visible offset of each document on screen (moeLens/visibleRanges): its window is analysed first. Kept for
// open documents; a client may announce a document's ranges just before it opens it, so a few not-yet-open uris are
// held too — at most PENDING_CAP, oldest dropped — and a client sending ranges for 200k never-opened uris costs nothing.

const PENDING_CAP = 64;

export class VisibleOffsets {
  private readonly open = new Map<string, number>();
  private readonly pending = new Map<string, number>();

  constructor(private readonly isOpen: (uri: string) => boolean) {}

  /** Notes a moeLens/visibleRanges notification; anything malformed is ignored. */
  note(p: { uri?: unknown; ranges?: unknown } | undefined): void {
    const first = (p?.ranges as unknown[][] | undefined)?.[0]?.[0];
    if (typeof p?.uri !== 'string' || typeof first !== 'number' || !Number.isInteger(first) || first < 0) return;
    if (this.isOpen(p.uri)) {
      this.open.set(p.uri, first);
      return;
    }
    this.pending.delete(p.uri);
    this.pending.set(p.uri, first);
    if (this.pending.size > PENDING_CAP) this.pending.delete(this.pending.keys().next().value as string);
  }

  opened(uri: string): void {
    const p = this.pending.get(uri);
    if (p === undefined) return;
    this.pending.delete(uri);
    this.open.set(uri, p);
  }

  closed(uri: string): void {
    this.open.delete(uri);
    this.pending.delete(uri);
  }

  get(uri: string): number | undefined {
    return this.open.get(uri);
  }

  /** entries held, open and pending (for tests) */
  get size(): number {
    return this.open.size + this.pending.size;
  }
}

// A server that can no longer parse its input must not live on deaf. vscode-jsonrpc's stream reader reports a bad
// header (no Content-Length, a non-numeric one) as an error and then ignores every later byte, and a Content-Length
// too large for any real message makes it wait for a body forever; either way the process stays alive, silent,
// and no client restart logic can help. This watcher follows the same framing on stdin, side by side with the
// reader, and on the first framing error writes the reason to stderr and exits non-zero (the client restarts it).
// Only for --stdio: IPC carries whole messages, and sockets/pipes are not used by MoE Lens clients.
import type { Inbox } from './inbox';

/** No message MoE Lens exchanges comes near this (a 4096-token result is ~1 MB as JSON). */
export const MAX_MESSAGE_BYTES = 256 * 2 ** 20;
/** A header block longer than this is not a header. */
const MAX_HEADER_BYTES = 8192;

/** Follows LSP base-protocol framing over a byte stream; returns an error sentence at the first broken frame. */
export class FramingWatcher {
  private header = Buffer.alloc(0);
  /** body bytes still to skip; -1 while reading a header */
  private remaining = -1;
  private failed?: string;

  /** `onFrame`: called for every complete message (the inbox counts arrivals with it) */
  constructor(private readonly onFrame?: () => void) {}

  /** Feeds a chunk; returns the first framing error seen (then and ever after), or undefined. */
  push(chunk: Buffer): string | undefined {
    let data = chunk;
    while (!this.failed && data.length > 0) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, data.length);
        this.remaining -= n;
        data = data.subarray(n);
        if (this.remaining === 0) {
          this.remaining = -1;
          this.onFrame?.();
        }
        continue;
      }
      this.header = Buffer.concat([this.header, data]);
      const end = this.header.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.header.length > MAX_HEADER_BYTES) this.failed = `a header of more than ${MAX_HEADER_BYTES} bytes without an end`;
        break;
      }
      const lines = this.header.subarray(0, end).toString('ascii').split('\r\n');
      data = this.header.subarray(end + 4);
      this.header = Buffer.alloc(0);
      const lengths = lines.filter((l) => /^content-length\s*:/i.test(l)).map((l) => l.slice(l.indexOf(':') + 1).trim());
      if (lengths.length !== 1) {
        this.failed = lengths.length ? 'more than one Content-Length header' : 'a message header without Content-Length';
      } else if (!/^\d+$/.test(lengths[0])) {
        this.failed = `Content-Length "${lengths[0].slice(0, 40)}" is not a number`;
      } else if (Number(lengths[0]) > MAX_MESSAGE_BYTES) {
        this.failed = `Content-Length ${lengths[0].slice(0, 40)} is larger than the ${MAX_MESSAGE_BYTES} bytes any message may have`;
      } else {
        this.remaining = Number(lengths[0]) || -1;
        if (this.remaining === -1) this.onFrame?.();
      }
    }
    return this.failed;
  }
}

/**
 * With --stdio: exits with status 2 and a line on stderr at the first framing error on stdin; counts each complete
 * message as an arrival in `inbox`. With --node-ipc, counts the messages from the parent process instead.
 */
export function watchTransport(inbox: Inbox, argv: readonly string[] = process.argv): void {
  if (argv.includes('--node-ipc')) {
    process.on('message', () => inbox.arrive());
    return;
  }
  if (!argv.includes('--stdio')) return;
  const watcher = new FramingWatcher(() => inbox.arrive());
  process.stdin.on('data', (chunk: Buffer) => {
    const error = watcher.push(chunk);
    if (error) {
      process.stderr.write(`moe-lens server: unreadable input on stdin (${error}); exiting so that the client can restart the server\n`);
      process.exit(2);
    }
  });
}

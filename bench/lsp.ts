// The real server over stdio, as an editor talks to it (same approach as test/lsp/client.ts): open a document, wait for
// its analysis, edit its last token (the server's incremental path), hover many positions, read the server's resident
// memory from /proc.
import { SERVER_PROCESS_ENV } from '../common/serverEnv';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from 'vscode-languageserver-protocol/node';
import { Methods, type PackedRoutingResult, type RoutingParams, type RoutingResult } from '../common/protocol';
import { unpackRouting } from '../common/routingCodec';

export interface HoverBench {
  tokens: number;
  /** from didOpen to the routing result (the first analysis, model already loaded) */
  firstAnalysisMs: number;
  /** the server's own time for that analysis (RoutingResult.elapsedMs) */
  firstServerMs: number;
  /** one-token edits at the end: median from didChange to the routing result (JSON transfer included) */
  editMs: number;
  /** the server's own time for them (elapsedMs), and the tokens it ran through the model (RoutingResult.incremental) */
  editServerMs: number;
  editComputed: number;
  /** the same edits with the encoding the extension uses: packed, a delta against the previous result */
  editPackedMs: number;
  hovers: number;
  hits: number;
  p50: number;
  p95: number;
  max: number;
  rssMB: number;
  peakRssMB: number;
  /** after the model loaded, before any document */
  loadedRssMB: number;
  /** right after the first analysis answered */
  firstRssMB: number;
  /**
   * The expert labels' profiling pass, which the server starts at load (models with a profile corpus): ms from the
   * model ready to the labels in the status (NaN: none came), and the RSS once it is over (moeLens/expertLabels
   * answers when it is), read after rssMB; equal to rssMB for a model without a corpus
   */
  labelsMs: number;
  settledRssMB: number;
}

function memMB(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

export const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};

/**
 * `cacheDir`: the folder the server may cache in (initializationOptions.cacheDir, as the extension passes its global
 * storage): expert labels computed at one start are read back at the next instead of profiled again.
 */
export async function hoverBench(serverJs: string, text: string, modelPath: string, hovers: number, opts: { seed?: number; cacheDir?: string; env?: Readonly<Record<string, string>> } = {}): Promise<HoverBench> {
  const seed = opts.seed ?? 1;
  // the environment the extension starts the server with (common/serverEnv.ts) unless the caller gives another
  const env = { ...process.env, ...(opts.env ?? SERVER_PROCESS_ENV) };
  const proc: ChildProcess = spawn(process.execPath, [serverJs, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'], env });
  const conn: ProtocolConnection = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  // The server's stderr, for the message when it dies.
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<never>((_, reject) => proc.on('exit', (code, signal) => reject(new Error(`server exited (${code ?? signal}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`))));
  exited.catch(() => undefined); // only raced against the first analysis
  for (const n of ['window/showMessage', 'window/logMessage', '$/progress', Methods.routingChanged.method]) conn.onNotification(n, () => undefined);
  let ready = NaN, labelsMs = NaN;
  conn.onNotification(Methods.statusChanged.method, (st: { model?: { labels?: unknown } }) => {
    if (st.model?.labels && Number.isNaN(labelsMs)) labelsMs = performance.now() - ready;
  });
  conn.onRequest('window/workDoneProgress/create', () => null);
  conn.onRequest('window/showMessageRequest', () => null);
  conn.listen();
  try {
    await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: { window: { workDoneProgress: true } }, initializationOptions: { modelPath, executionProvider: 'cpu', maxTokens: 4096, ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}) } });
    await conn.sendNotification('initialized', {});
    for (;;) {
      const s = (await conn.sendRequest(Methods.getStatus)) as { state: string; message?: string };
      if (s.state === 'error') throw new Error(`server could not load the model: ${s.message}`);
      if (s.state === 'ready') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    ready = performance.now();
    const loadedRssMB = memMB(proc.pid!).rss;
    const uri = 'file:///bench/document.ts';
    const t0 = performance.now();
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text } });
    const r = (await Promise.race([conn.sendRequest(Methods.routing, { textDocument: { uri } }), exited])) as RoutingResult;
    const firstAnalysisMs = performance.now() - t0;
    const firstRssMB = memMB(proc.pid!).rss;
    const lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
    const position = (offset: number) => {
      let lo = 0, hi = lineStarts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (lineStarts[mid] <= offset) lo = mid;
        else hi = mid - 1;
      }
      return { line: lo, character: offset - lineStarts[lo] };
    };
    // One-token edits at the end: the last character replaced, alternately by two others, so that each version
    // differs from the previous one in its last token only (the document stays under maxTokens).
    const last = { start: position(text.length - 1), end: position(text.length) };
    const a = text.endsWith(';') ? ',' : ';', b = a === ';' ? ',' : ';';
    const edits: number[] = [], server: number[] = [], packedEdits: number[] = [];
    let editComputed = NaN;
    let held: RoutingResult | undefined;
    for (let i = 0, v = 1; i < 14; i++) {
      // first 7 edits answered as JSON, the next 7 packed with deltas (as the extension asks); one warm-up each
      const packed = i >= 7;
      const e0 = performance.now();
      await conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: ++v }, contentChanges: [{ range: last, text: i % 2 ? b : a }] });
      let er: RoutingResult;
      if (packed) {
        const p = (await conn.sendRequest(Methods.routing, { textDocument: { uri }, encoding: 'packed', since: held?.version } satisfies RoutingParams)) as PackedRoutingResult;
        er = held = unpackRouting(p, held);
      } else er = (await conn.sendRequest(Methods.routing, { textDocument: { uri } })) as RoutingResult;
      if (i === 0 || i === 7) continue; // warm-up
      (packed ? packedEdits : edits).push(performance.now() - e0);
      if (!packed) server.push(er.elapsedMs);
      editComputed = er.incremental?.computed ?? NaN;
    }
    let x = seed >>> 0;
    const rand = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const lastOffset = r.offsets[2 * r.tokens - 1];
    const times: number[] = [];
    let hits = 0;
    for (let i = 0; i < hovers + 20; i++) {
      const p = position(Math.floor(rand() * lastOffset));
      const h0 = performance.now();
      const h = await conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: p });
      const dt = performance.now() - h0;
      if (i >= 20) { // the first 20 warm the JIT up
        times.push(dt);
        if (h) hits++;
      }
    }
    const mem = memMB(proc.pid!);
    await conn.sendRequest(Methods.expertLabels);
    const settled = memMB(proc.pid!);
    return { tokens: r.tokens, firstAnalysisMs, firstServerMs: r.elapsedMs, editMs: quantile(edits, 0.5), editPackedMs: quantile(packedEdits, 0.5), editServerMs: quantile(server, 0.5), editComputed, hovers, hits, p50: quantile(times, 0.5), p95: quantile(times, 0.95), max: Math.max(...times), rssMB: mem.rss, peakRssMB: settled.hwm, loadedRssMB, firstRssMB, labelsMs, settledRssMB: settled.rss };
  } finally {
    await Promise.race([conn.sendRequest('shutdown').catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    // Awaited: a write still queued when the stream is destroyed would reject unhandled and end the benchmark.
    await conn.sendNotification('exit').catch(() => undefined);
    await Promise.race([new Promise((r) => proc.once('exit', r)), new Promise((r) => setTimeout(r, 1000))]);
    conn.dispose();
    proc.kill();
  }
}

// JSON over HTTP to a serving engine, with what a request that leaves the machine needs: a timeout per try, a bounded
// number of retries with exponential backoff for failures that may pass (refused, reset, timed out, 429, 5xx), and
// cancellation by an AbortSignal (a newer document version makes the request stale). Node's global fetch (undici).
import { BackendCancelledError } from '../backend';

/** A request that failed for good; `reason` is a sentence fragment for the status bar ("connection refused"). */
export class RemoteError extends Error {
  constructor(readonly url: string, readonly reason: string, readonly retryable: boolean, readonly status?: number) {
    super(`${url}: ${reason}`);
    this.name = 'RemoteError';
  }
}


export interface RetryPolicy {
  /** milliseconds one try may take before it is abandoned */
  timeoutMs: number;
  /** further tries after the first, for retryable failures only */
  retries: number;
  /** delay before the first retry; doubled each time, capped at maxDelayMs */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { timeoutMs: 30_000, retries: 2, baseDelayMs: 250, maxDelayMs: 4_000 };

/** The delay before retry number `attempt` (1-based): base · 2^(attempt−1), capped. Pure, for tests. */
export function backoffDelay(attempt: number, p: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  return Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1));
}

/** A network error as a person reads it (undici puts the system error in `cause`). */
export function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the engine running on that port?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'the connection was reset';
  if (code) return `network error ${code}`;
  return cause?.message ?? (e as Error)?.message ?? String(e);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new BackendCancelledError());
    const t = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(t);
      reject(new BackendCancelledError());
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** One try: POST (or GET without a body), the answer parsed as JSON. */
async function tryOnce(url: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: both,
    });
  } catch (e) {
    if (signal?.aborted) throw new BackendCancelledError();
    if (timeout.aborted) throw new RemoteError(url, `no answer within ${seconds(timeoutMs)}`, true);
    throw new RemoteError(url, networkReason(e), true);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    if (signal?.aborted) throw new BackendCancelledError();
    if (timeout.aborted) throw new RemoteError(url, `the answer did not finish within ${seconds(timeoutMs)}`, true);
    throw new RemoteError(url, networkReason(e), true);
  }
  if (!res.ok) {
    const retryable = res.status === 429 || res.status >= 500;
    throw new RemoteError(url, `HTTP ${res.status}${detail(text)}`, retryable, res.status);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new RemoteError(url, `the answer is not JSON (${text.slice(0, 60).replace(/\s+/g, ' ')}…)`, false);
  }
}

/** The engine's own error message, when its error body has one (OpenAI style `error.message`, or `message`/`detail`). */
function detail(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: string } | string; message?: string; detail?: string };
    const m = typeof j.error === 'string' ? j.error : (j.error?.message ?? j.message ?? j.detail);
    return m ? `: ${String(m).slice(0, 200)}` : '';
  } catch {
    return text.trim() ? `: ${text.trim().slice(0, 200)}` : '';
  }
}

const seconds = (ms: number) => (ms >= 1000 ? `${+(ms / 1000).toFixed(1)} s` : `${ms} ms`);

/**
 * POSTs `body` (GET when undefined) and returns the parsed JSON answer, retrying retryable failures with backoff.
 * The final error says how many tries were made. Rejects with BackendCancelledError as soon as `signal` aborts.
 */
export async function requestJson(url: string, body: unknown, policy: RetryPolicy, signal?: AbortSignal): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw new BackendCancelledError();
    try {
      return await tryOnce(url, body, policy.timeoutMs, signal);
    } catch (e) {
      if (!(e instanceof RemoteError) || !e.retryable || attempt >= policy.retries) {
        if (e instanceof RemoteError && attempt > 0) throw new RemoteError(url, `${e.reason} (${attempt + 1} tries)`, false, e.status);
        throw e;
      }
      await sleep(backoffDelay(attempt + 1, policy), signal);
    }
  }
}

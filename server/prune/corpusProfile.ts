// One profiling pass over a corpus, accumulated into what importance, merging and offloading need: the importance
// counts (frequency, gate weight, gate weight × ‖expert output‖), the Gram matrix of the router logits per layer
// (merging's similarity) and, when asked, every token's selected experts per layer (the offloading simulation).
// The per-window loops run over the graph's flat outputs with no per-token allocation.
import { addImportance, emptyImportance, type ImportanceCounts } from '../../common/expertImportance';
import type { MoeGraph } from './moeGraph';
import { profileTexts, type ProfileOptions } from './profile';

export interface CorpusProfile {
  counts: ImportanceCounts;
  /** per layer [E*E]: Σ_t z_ti·z_tj of the raw router logits */
  gram: Float64Array[];
  /** when keepSequences: [text][layer] = the selected experts, flat [t·K + k] (common/offloadSim.ts) */
  sequences?: Int32Array[][];
}

/** Adds Σ_t z_ti·z_tj of T tokens' logits z [T·E] to G [E·E]: the upper triangle summed, mirrored when done. */
function addGram(G: Float64Array, z: Float32Array, T: number, E: number): void {
  for (let t = 0; t < T; t++) {
    const row = t * E;
    for (let i = 0; i < E; i++) {
      const zi = z[row + i];
      const at = i * E;
      for (let j = i; j < E; j++) G[at + j] += zi * z[row + j];
    }
  }
}

/** The lower triangle from the upper (z_i·z_j = z_j·z_i exactly, so the sums are the same numbers). */
function mirror(G: Float64Array, E: number): void {
  for (let i = 0; i < E; i++) for (let j = 0; j < i; j++) G[i * E + j] = G[j * E + i];
}

export async function profileCorpus(g: MoeGraph, texts: readonly string[], opts: ProfileOptions & { keepSequences?: boolean }): Promise<CorpusProfile> {
  const { layers: L, experts: E, topK: K } = g.manifest;
  const counts = emptyImportance(L, E);
  const gram = Array.from({ length: L }, () => new Float64Array(E * E));
  // per text and layer, the windows' slices of expert ids, joined once the pass is over
  const pieces = opts.keepSequences ? texts.map(() => Array.from({ length: L }, (): Int32Array[] => [])) : undefined;
  await profileTexts(
    g,
    texts,
    (w) => {
      const T = w.tokens;
      addImportance(counts, T, K, w.ids, w.weights, w.norms);
      for (let l = 0; l < L; l++) {
        addGram(gram[l], w.routerLogits.subarray(l * T * E, (l + 1) * T * E), T, E);
        pieces?.[w.text][l].push(w.ids.slice(l * T * K, (l + 1) * T * K));
      }
    },
    opts,
  );
  for (const G of gram) mirror(G, E);
  const sequences = pieces?.map((layers) =>
    layers.map((parts) => {
      const seq = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        seq.set(p, at);
        at += p.length;
      }
      return seq;
    }),
  );
  return { counts, gram, ...(sequences ? { sequences } : {}) };
}

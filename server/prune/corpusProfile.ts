// One profiling pass over a corpus, accumulated into what importance, merging and offloading need: the importance
// counts (frequency, gate weight, gate weight × ‖expert output‖), the Gram matrix of the router logits per layer
// (merging's similarity) and, when asked, every token's selected experts per layer (the offloading simulation).
import { addImportance, emptyImportance, type ImportanceCounts } from '../../common/expertImportance';
import { layerMajorIndex } from '../../common/routingLayout';
import type { MoeGraph } from './moeGraph';
import { profileTexts, type ProfileOptions } from './profile';

export interface CorpusProfile {
  counts: ImportanceCounts;
  /** per layer [E*E]: Σ_t z_ti·z_tj of the raw router logits */
  gram: Float64Array[];
  /** when keepSequences: [text][layer][token] = the selected experts */
  sequences?: number[][][][];
}

export async function profileCorpus(g: MoeGraph, texts: readonly string[], opts: ProfileOptions & { keepSequences?: boolean }): Promise<CorpusProfile> {
  const { layers: L, experts: E, topK: K } = g.manifest;
  const counts = emptyImportance(L, E);
  const gram = Array.from({ length: L }, () => new Float64Array(E * E));
  const sequences = opts.keepSequences ? texts.map(() => Array.from({ length: L }, (): number[][] => [])) : undefined;
  await profileTexts(
    g,
    texts,
    (w) => {
      addImportance(counts, w.tokens, K, w.ids, w.weights, w.norms);
      for (let l = 0; l < L; l++) {
        const G = gram[l];
        for (let t = 0; t < w.tokens; t++) {
          const z = w.routerLogits.subarray(layerMajorIndex(w.tokens, l, t, E), layerMajorIndex(w.tokens, l, t + 1, E));
          for (let i = 0; i < E; i++) for (let j = 0; j < E; j++) G[i * E + j] += z[i] * z[j];
          if (sequences) sequences[w.text][l].push(Array.from(w.ids.subarray(layerMajorIndex(w.tokens, l, t, K), layerMajorIndex(w.tokens, l, t + 1, K))));
        }
      }
    },
    opts,
  );
  return { counts, gram, ...(sequences ? { sequences } : {}) };
}

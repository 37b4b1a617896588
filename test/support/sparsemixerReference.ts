// transformers 5.18's Phi-MoE sparsemixer at inference (models/phimoe/modeling_phimoe.py, training=False), written
// out in plain JS over float64 as an independent reference for the graph's ONNX version (graph/sparsemixer.ts), with
// the steering convention of docs/IMPORT.md: the choice on raw + bias, the weights from the raw logits.
export function sparsemixerReference(raw: ArrayLike<number>, bias: ArrayLike<number>, jitterEps: number): { ids: [number, number]; weights: [number, number] } {
  const E = raw.length;
  const argmax = (skip: number) => {
    let best = -1;
    for (let e = 0; e < E; e++) if (e !== skip && (best < 0 || raw[e] + bias[e] > raw[best] + bias[best])) best = e;
    return best;
  };
  const weight = (chosen: number, excluded: number) => {
    const m = raw[chosen];
    let sum = 0;
    for (let e = 0; e < E; e++) {
      if (e === excluded) continue;
      if ((m - raw[e]) / Math.max(Math.abs(raw[e]), m) > 2 * jitterEps) continue;
      sum += Math.exp(raw[e] - m);
    }
    return 1 / sum;
  };
  const i1 = argmax(-1);
  const i2 = argmax(i1);
  return { ids: [i1, i2], weights: [weight(i1, -1), weight(i2, i1)] };
}

// Expert merging after MC-SMoE (Li et al., "Merge, Then Compress", ICLR 2024), per layer: the `keep` most frequently
// selected experts are the dominant ones; every other expert joins the dominant expert whose router logits are most
// similar to its own over the corpus (cosine of the two logit columns); each group becomes one expert, the
// frequency-weighted average of its members' weights, routed by the dominant expert's router row. (MC-SMoE's neuron
// permutation alignment before averaging and its low-rank compression afterwards are not done.) Pure.

export interface MergeGroup {
  dominant: number;
  /** [expert, coefficient]; the coefficients sum to 1 */
  members: [number, number][];
}

/**
 * Groups for one layer. `freq[e]`: tokens that selected e; `gram[i*E+j]`: Σ_t z_ti·z_tj of the raw router logits.
 * Groups come in ascending order of their dominant expert.
 */
export function mergeGroups(freq: ArrayLike<number>, gram: ArrayLike<number>, keep: number): MergeGroup[] {
  const E = freq.length;
  const order = [...Array(E).keys()].sort((a, b) => freq[b] - freq[a] || a - b);
  const dominants = order.slice(0, keep).sort((a, b) => a - b);
  const cos = (i: number, j: number) => gram[i * E + j] / Math.sqrt(Math.max(1e-30, gram[i * E + i] * gram[j * E + j]));
  const members = new Map<number, number[]>(dominants.map((d) => [d, [d]]));
  for (const e of order.slice(keep)) {
    let best = dominants[0];
    for (const d of dominants) if (cos(e, d) > cos(e, best)) best = d;
    members.get(best)!.push(e);
  }
  return dominants.map((d) => {
    const group = members.get(d)!;
    const total = group.reduce((s, e) => s + freq[e], 0);
    return { dominant: d, members: group.map((e): [number, number] => [e, total > 0 ? freq[e] / total : 1 / group.length]) };
  });
}

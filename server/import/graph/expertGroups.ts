// Group-limited expert choice (GLM-4.5, DeepSeek-V2/V3): the experts are split into `groups` equal groups, each
// group scored by `reduce` over its experts' choice scores, and only the experts of the best `topkGroup` groups stay
// candidates; the others are set to −inf, as transformers' masked_fill does before its top-k (DeepSeek-V2 fills its
// probabilities with 0.0 instead: the same choice, since every kept probability is positive and top-k ≤ the kept
// experts, which families/base.ts expertGroups checks).
import type { GraphBuilder } from './builder';

/** 'top2-sum': the sum of the group's two best scores (Glm4MoeTopkRouter, DeepseekV3TopkRouter); 'max': its best (DeepseekV2TopkRouter). */
export type GroupScore = 'top2-sum' | 'max';

/** choice [T, E] → the same with the experts outside the kept groups at −inf. */
export function limitToGroups(g: GraphBuilder, choice: string, E: number, groups: number, topkGroup: number, reduce: GroupScore): string {
  if (topkGroup >= groups) return choice;
  const grouped = g.op('Reshape', [choice, g.constI([-1, groups, E / groups])]); // [T, G, E/G]
  const groupScores = reduce === 'max'
    ? g.op('ReduceMax', [grouped], { axes: [-1], keepdims: 0 })
    : g.op('ReduceSum', [g.opN('TopK', [grouped, g.constI([2])], 2, { axis: -1, largest: 1, sorted: 1 })[0], g.constI([-1])], { keepdims: 0 }); // [T, G]
  const kept = g.opN('TopK', [groupScores, g.constI([topkGroup])], 2, { axis: -1, largest: 1, sorted: 1 })[1]; // [T, topk_group]
  const zeros = g.op('ConstantOfShape', [g.op('Shape', [groupScores])], {});
  const ones = g.op('Add', [g.op('ConstantOfShape', [g.op('Shape', [kept])], {}), g.constF([1], [])]);
  const mask = g.op('Cast', [g.op('Unsqueeze', [g.op('ScatterElements', [zeros, kept, ones], { axis: 1 }), g.constI([2])])], { to: 9 }); // [T, G, 1] bool
  return g.op('Reshape', [g.op('Where', [mask, grouped, g.constF([-Infinity], [])]), g.constI([-1, E])]);
}

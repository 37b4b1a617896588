// gpt-oss's attention sinks (transformers 5.18 models/gpt_oss/modeling_gpt_oss.py, eager_attention_forward): one
// learned logit per head is appended to each query's masked scores, the softmax runs over keys + sink, and the sink's
// share is dropped, so a head can attend to "nothing". (The reference subtracts the row max first; softmax does too.)
import type { GraphBuilder } from './builder';
import type { WeightSource } from './weights';

/** probs [1, kvH, groups, T, S] from masked scores of that shape and the sinks weight [heads] (head = kv·groups + j). */
export function softmaxWithSinks(g: GraphBuilder, src: WeightSource, masked: string, sinksName: string, heads: number, kvHeads: number): string {
  const sinks = g.weight(sinksName, [heads], src.read(sinksName, [heads]));
  const perHead = g.op('Reshape', [sinks, g.constI([1, kvHeads, heads / kvHeads, 1, 1])]);
  const shape = g.op('Shape', [masked]);
  const column = g.op('Concat', [g.op('Slice', [shape, g.constI([0]), g.constI([-1])]), g.constI([1])], { axis: 0 }); // [1, kvH, g, T, 1]
  const combined = g.op('Concat', [masked, g.op('Expand', [perHead, column])], { axis: -1 });
  const probs = g.op('Softmax', [combined], { axis: -1 });
  const S = g.op('Slice', [shape, g.constI([-1]), g.constI([5])]);
  return g.op('Slice', [probs, g.constI([0]), S, g.constI([-1])]);
}

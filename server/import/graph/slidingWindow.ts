// The attention mask of gpt-oss's sliding layers: causal and within the window, as transformers 5.18's
// masking_utils.sliding_window_overlay has it (key position > query position − sliding_window).
import type { ModelSpec } from '../config';
import type { GraphBuilder } from './builder';

/** [T, S] bool, or undefined when no layer slides. positions [T] and keyPositions [S] are absolute int64. */
export function slidingMask(g: GraphBuilder, spec: ModelSpec, allowed: string, positions: string, keyPositions: string): string | undefined {
  if (!spec.slidingLayers?.length || spec.slidingWindow === undefined) return undefined;
  const lowest = g.op('Sub', [g.op('Unsqueeze', [positions, g.constI([1])]), g.constI([spec.slidingWindow], [])]); // [T, 1]
  const inWindow = g.op('Greater', [g.op('Unsqueeze', [keyPositions, g.constI([0])]), lowest]); // [T, S]
  return g.op('And', [allowed, inWindow]);
}

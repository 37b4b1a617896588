// Steering rules as the model sees them: validated against the model, turned into its expert_bias input [L*E], and
// keyed for caches. (server/steering/ holds the features built on steering: continuation, contrastive finder, labels.)
import type { ModelInfo, SteeringRule } from '../../common/protocol';
import type { MoeManifest } from '../model/manifest';

/** An invalid steering rule; the message names the rule (its index and content) and what is wrong. */
export class SteeringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SteeringError';
  }
}

/**
 * The largest |bias| a "bias" rule may set. Router logits are O(10); a bias beyond ±1e6 could only act as disable or
 * force (which the manifest gives as ±1e9, and which have their own rules and checks), and values near float32's range
 * (3.4e38) would become ±Infinity in the expert_bias tensor.
 */
export const MAX_ABS_BIAS = 1e6;

const ruleLabel = (i: number, r: Partial<SteeringRule>): string => `rule ${i} (layer ${String(r.layer)}, expert ${String(r.expert)}, ${String(r.mode)})`;

/**
 * Checks rules against the model: integer layer in range or "*", integer expert in range, a known mode, a finite bias
 * of at most ±MAX_ABS_BIAS for "bias", each (layer, expert) at most once, at most topK forced experts in a layer (more
 * cannot all be chosen) and at least topK experts left selectable in each layer (else a disabled one is chosen).
 */
export function validateRules(rules: unknown, info: Pick<ModelInfo, 'layers' | 'experts' | 'topK'>): SteeringRule[] {
  if (!Array.isArray(rules)) throw new SteeringError('rules must be an array');
  const seen = new Map<string, number>();
  const forced = new Array<number>(info.layers).fill(0);
  const disabled = new Array<number>(info.layers).fill(0);
  const out: SteeringRule[] = [];
  rules.forEach((raw: unknown, i) => {
    if (typeof raw !== 'object' || raw === null) throw new SteeringError(`rule ${i}: not an object`);
    const r = raw as Partial<SteeringRule>;
    const what = ruleLabel(i, r);
    if (r.layer !== '*' && !(Number.isInteger(r.layer) && (r.layer as number) >= 0 && (r.layer as number) < info.layers)) {
      throw new SteeringError(`${what}: layer ${String(r.layer)} does not exist (model has ${info.layers} layers: 0–${info.layers - 1}, or "*" for all)`);
    }
    if (!(Number.isInteger(r.expert) && (r.expert as number) >= 0 && (r.expert as number) < info.experts)) {
      throw new SteeringError(`${what}: expert ${String(r.expert)} does not exist (model has ${info.experts} experts per layer: 0–${info.experts - 1})`);
    }
    if (r.mode !== 'disable' && r.mode !== 'force' && r.mode !== 'bias') throw new SteeringError(`${what}: unknown mode "${String(r.mode)}" (use disable, force or bias)`);
    if (r.mode === 'bias' && !(typeof r.bias === 'number' && Number.isFinite(r.bias))) {
      throw new SteeringError(`${what}: mode "bias" needs a finite number "bias" (got ${typeof r.bias === 'string' ? JSON.stringify(r.bias) : String(r.bias)})`);
    }
    if (r.mode === 'bias' && Math.abs(r.bias as number) > MAX_ABS_BIAS) {
      throw new SteeringError(`${what}: "bias" ${String(r.bias)} is beyond ±${MAX_ABS_BIAS} (the bias limit; use "disable" or "force" to rule an expert out or in)`);
    }
    const layers = r.layer === '*' ? [...Array(info.layers).keys()] : [r.layer as number];
    for (const l of layers) {
      const key = `${l}:${r.expert}`;
      if (seen.has(key)) throw new SteeringError(`${what}: layer ${l}, expert ${r.expert} is already set by rule ${seen.get(key)}`);
      seen.set(key, i);
      if (r.mode === 'force' && ++forced[l] > info.topK) {
        throw new SteeringError(`${what}: more forced experts in layer ${l} than the ${info.topK} the router selects per token`);
      }
      // The router picks topK experts per token: with fewer than topK left, a disabled one would be chosen anyway.
      if (r.mode === 'disable' && info.experts - ++disabled[l] < info.topK) {
        throw new SteeringError(`${what}: layer ${l} would keep only ${info.experts - disabled[l]} selectable experts, fewer than the ${info.topK} the router selects per token (disable at most ${info.experts - info.topK} experts per layer)`);
      }
    }
    out.push(r.mode === 'bias' ? { layer: r.layer!, expert: r.expert!, mode: 'bias', bias: r.bias } : { layer: r.layer!, expert: r.expert!, mode: r.mode });
  });
  return out;
}

/** The expert_bias tensor [L*E] for validated rules: 0 = unsteered, disable/force use the manifest's constants. */
export function biasFromRules(rules: readonly SteeringRule[], info: Pick<ModelInfo, 'layers' | 'experts'>, manifest: Pick<MoeManifest, 'router'>): Float32Array {
  const bias = new Float32Array(info.layers * info.experts);
  for (const r of rules) {
    const v = r.mode === 'disable' ? manifest.router.disableBias : r.mode === 'force' ? manifest.router.forceBias : (r.bias ?? 0);
    const layers = r.layer === '*' ? [...Array(info.layers).keys()] : [r.layer];
    for (const l of layers) bias[l * info.experts + r.expert] = v;
  }
  return bias;
}

// steeringKey lives in common/ (the routing export names the steering of each row with it, in the editor too).
export { steeringKey } from '../../common/steeringRules';

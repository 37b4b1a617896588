// Steering rule sets as every side reads and edits them: the rule for (layer, expert), its description, and the
// edits of the Experts tree, the panel and the commands. Pure (unit-tested in plain Node).
import type { SteeringRule } from './protocol';

/**
 * The rule that governs (layer, expert): its per-layer rule, else an all-layers ("*") one. (The server refuses a set
 * where both exist; a per-layer rule wins here so that a stale set still reads the way it would be fixed.)
 */
export function ruleFor(rules: readonly SteeringRule[], layer: number, expert: number): SteeringRule | undefined {
  return rules.find((r) => r.expert === expert && r.layer === layer) ?? rules.find((r) => r.expert === expert && r.layer === '*');
}

/** "E3 @ layer 1: disabled", "E3 @ all layers: bias +2". */
export function describeRule(r: SteeringRule): string {
  const where = r.layer === '*' ? 'all layers' : `layer ${r.layer}`;
  return r.mode === 'bias' ? `E${r.expert} @ ${where}: bias ${r.bias! >= 0 ? '+' : ''}${r.bias}` : `E${r.expert} @ ${where}: ${r.mode}d`;
}

/**
 * The rules after switching (layer, expert) on or off. Switching on an expert that an all-layers rule governs splits
 * that rule into per-layer rules for the other layers, so one checkbox changes exactly one layer.
 */
export function toggledRules(rules: readonly SteeringRule[], layers: number, layer: number, expert: number, enabled: boolean): SteeringRule[] {
  const out: SteeringRule[] = [];
  for (const r of rules) {
    if (r.expert !== expert) out.push(r);
    else if (r.layer === '*') {
      for (let l = 0; l < layers; l++) if (l !== layer) out.push({ ...r, layer: l });
    } else if (r.layer !== layer) out.push(r);
  }
  if (!enabled) out.push({ layer, expert, mode: 'disable' });
  return out;
}

/**
 * Toggle Expert at Cursor: re-enables (layer, expert) when the rule that governs it (a "*" one included) disables it,
 * else disables it at that layer. Edits like an Experts tree checkbox, so a "*" rule is split, never duplicated.
 */
export function toggledDisable(rules: readonly SteeringRule[], layers: number, layer: number, expert: number): SteeringRule[] {
  return toggledRules(rules, layers, layer, expert, ruleFor(rules, layer, expert)?.mode === 'disable');
}

/** Rules without those for (layer, expert); layer "*" removes the expert's rules at every layer. */
export function withoutRule(rules: readonly SteeringRule[], layer: number | '*', expert: number): SteeringRule[] {
  return rules.filter((r) => !(r.expert === expert && (r.layer === layer || layer === '*')));
}

/**
 * Rules that act on the first `n` ranked experts (a contrastive ranking, ΔP descending): "disable" switches them off;
 * "force" forces them, skipping experts of a layer that already has `topK` forced (more cannot all be selected).
 * Existing rules for other experts stay; the new rules replace any for the same (layer, expert).
 */
export function rulesForRanking(
  rules: readonly SteeringRule[],
  ranked: readonly { layer: number; expert: number }[],
  n: number,
  mode: 'disable' | 'force',
  topK: number,
): SteeringRule[] {
  const forced = new Map<number, number>();
  for (const r of rules) if (r.mode === 'force' && r.layer !== '*') forced.set(r.layer, (forced.get(r.layer) ?? 0) + 1);
  const picked: SteeringRule[] = [];
  for (const x of ranked) {
    if (picked.length >= n) break;
    if (mode === 'force') {
      const already = ruleFor(rules, x.layer, x.expert)?.mode === 'force';
      if (!already && (forced.get(x.layer) ?? 0) >= topK) continue;
      if (!already) forced.set(x.layer, (forced.get(x.layer) ?? 0) + 1);
    }
    picked.push({ layer: x.layer, expert: x.expert, mode });
  }
  let out = [...rules];
  for (const p of picked) out = withoutRule(out, p.layer as number, p.expert);
  return [...out, ...picked];
}

/** A stable key for a rule set (order-independent); "" for no steering. */
export function steeringKey(rules: readonly SteeringRule[]): string {
  return rules
    .map((r) => `${r.layer}:${r.expert}:${r.mode}${r.mode === 'bias' ? `:${r.bias}` : ''}`)
    .sort()
    .join('|');
}

/**
 * A pruning (`moe-lens prune`'s disabled pairs) as steering: each pruned (layer, expert) disabled at its layer, as a
 * tree checkbox would (an all-layers rule for the expert is split); rules for the kept experts stay.
 */
export function withPruning(rules: readonly SteeringRule[], layers: number, disabled: readonly (readonly [number, number])[]): SteeringRule[] {
  let out = [...rules];
  for (const [layer, expert] of disabled) out = toggledRules(out, layers, layer, expert, false);
  return out;
}

import assert from 'node:assert/strict';
import type { RoutingResult } from '../../common/protocol';

/** What every routing result must satisfy: exact shapes, ranges that tile the text, values in range. */
export function checkInvariants(r: RoutingResult, text: string): void {
  const { layers: L, topK: K, experts: E } = r.model;
  const T = r.tokens;
  assert.equal(r.offsets.length, 2 * T);
  assert.equal(r.ids.length, T);
  assert.equal(r.experts.length, T * L * K);
  assert.equal(r.weights.length, T * L * K);
  assert.equal(r.entropy.length, T * L);
  assert.equal(r.surprisal.length, T);
  if (T) assert.equal(r.offsets[0], 0);
  for (let t = 0; t < T; t++) {
    assert.ok(r.offsets[2 * t] <= r.offsets[2 * t + 1], `token ${t} range reversed`);
    if (t + 1 < T) assert.equal(r.offsets[2 * t + 1], r.offsets[2 * t + 2], `gap or overlap after token ${t}`);
  }
  if (T && !r.truncated && !r.partial) assert.equal(r.offsets[2 * T - 1], text.length);
  for (const w of r.weights) assert.ok(w >= 0 && w <= 1);
  for (const e of r.experts) assert.ok(Number.isInteger(e) && e >= 0 && e < E);
  for (const h of r.entropy) assert.ok(h >= 0 && h <= Math.log(E) + 1e-9);
  for (const s of r.surprisal) assert.ok(s >= 0 && Number.isFinite(s));
}

// Seeded randomness for sampling and random-expert baselines: the same seed gives the same continuation and the same
// random draws on every machine, so a result a user reports can be repeated.

/** mulberry32: a tiny 32-bit PRNG with good statistical quality for this use; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index of the largest value in row[from, from+n); ties keep the lowest index (as argmax in torch). */
export function argmax(row: ArrayLike<number>, from = 0, n = row.length - from): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (row[from + i] > row[from + best]) best = i;
  return best;
}

/**
 * Draws an index from softmax(logits / temperature) over row[from, from+n) with `random` in [0, 1).
 * temperature <= 0 means greedy (argmax), the deterministic choice.
 */
export function sampleIndex(row: ArrayLike<number>, temperature: number, random: () => number, from = 0, n = row.length - from): number {
  if (!(temperature > 0)) return argmax(row, from, n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, row[from + i]);
  const w = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += w[i] = Math.exp((row[from + i] - max) / temperature);
  let r = random() * sum;
  for (let i = 0; i < n; i++) {
    r -= w[i];
    if (r < 0) return i;
  }
  return n - 1; // rounding: r stayed at ~0 after the last weight
}

/** k distinct integers from [0, n), uniformly (partial Fisher–Yates), in draw order. */
export function sampleDistinct(n: number, k: number, random: () => number): number[] {
  if (k > n) throw new RangeError(`cannot draw ${k} distinct values from ${n}`);
  const pool = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, k);
}

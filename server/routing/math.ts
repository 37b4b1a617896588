// Routing math on plain arrays: pure, allocation-light, unit-tested (test/unit/math.test.ts).

/** Softmax of values[from, from+n) into a new array (max-shifted for stability). */
export function softmax(values: ArrayLike<number>, from = 0, n = values.length - from): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, values[from + i]);
  const out = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += out[i] = Math.exp(values[from + i] - max);
  for (let i = 0; i < n; i++) out[i] /= sum;
  return out;
}

/** Router entropy H = -Σ p_i ln p_i (nats) of softmax(logits[from, from+n)). Uniform over n: ln n. */
export function entropyNats(logits: ArrayLike<number>, from = 0, n = logits.length - from): number {
  const p = softmax(logits, from, n);
  let h = 0;
  for (const x of p) if (x > 0) h -= x * Math.log(x);
  return h;
}

/** Indices of the k largest values, largest first; ties keep the lower index first (as torch.topk on CPU). */
export function topK(values: ArrayLike<number>, k: number, from = 0, n = values.length - from): number[] {
  const idx: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[from + i];
    let j = idx.length;
    while (j > 0 && values[from + idx[j - 1]] < v) j--;
    if (j < k) {
      idx.splice(j, 0, i);
      if (idx.length > k) idx.pop();
    }
  }
  return idx;
}

/** -log2 p(target) under softmax(logits[from, from+n)), via log-sum-exp. */
export function surprisalBits(logits: ArrayLike<number>, target: number, from = 0, n = logits.length - from): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[from + i]);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[from + i] - max);
  return (Math.log(sum) + max - logits[from + target]) / Math.LN2;
}

/** Switch load-balance LBL = N·Σ f_i·p_i (1 when routing is perfectly even). */
export function loadBalance(f: ArrayLike<number>, p: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < f.length; i++) s += f[i] * p[i];
  return f.length * s;
}

/** KL(p || q) in nats between softmax(a) and softmax(b). */
export function klDivergence(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const p = softmax(a);
  const q = softmax(b);
  let kl = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) kl += p[i] * Math.log(p[i] / Math.max(q[i], 1e-300));
  return kl;
}

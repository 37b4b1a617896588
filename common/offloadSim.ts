// Expert offloading simulation over a routed corpus, per layer (docs/PRUNING.md, "Offloading"). `seq` is one layer's
// routing of one text, flat and token-major: seq[t·K + k] = the k-th expert token t selected. Definitions after "Not
// All Models Suit Expert Offloading" (local routing consistency):
// - SRP(m): split the text into segments of m tokens; for each, the best fixed set of K experts covers
//   max_{|S|=K} Σ_t |S ∩ A_t| of its Σ_t |A_t| activations; SRP is covered / activations over all segments. Σ_t |S ∩ A_t|
//   = Σ_{e∈S} count(e), so the best S is the K most frequent experts of the segment (exact, not a heuristic).
// - SCH(m, C): the same with a set of C experts (a cache that is refilled optimally once per segment).
// - LRU: a cache of C experts per layer, filled on a miss and evicting the least recently used. LRU is a stack
//   algorithm (Mattson et al., 1970): a cache of C holds exactly the C most recently used experts, so a lookup hits
//   every cache of at least its stack depth (1 + the distinct experts used since its last use), and one pass over the
//   sequence gives the hits of every C = 1 … E at once.

export interface Coverage {
  covered: number;
  activations: number;
}

export interface RoutingShape {
  experts: number;
  topK: number;
}

/** Σ over segments of the activations that the best set of `size` experts per segment covers. */
export function segmentCoverage(seq: ArrayLike<number>, shape: RoutingShape, segment: number, size: number): Coverage {
  const { experts: E, topK: K } = shape;
  const count = new Int32Array(E);
  const step = segment * K;
  let covered = 0;
  for (let s = 0; s < seq.length; s += step) {
    const end = Math.min(seq.length, s + step);
    count.fill(0);
    for (let i = s; i < end; i++) count[seq[i]]++;
    covered += Array.from(count).sort((x, y) => y - x).slice(0, size).reduce((x, y) => x + y, 0);
  }
  return { covered, activations: seq.length };
}

/** Hits of an LRU cache of C = 1 … E experts ([C − 1]) over the sequence, each starting empty; lookups = seq.length. */
export function lruHitsByCapacity(seq: ArrayLike<number>, experts: number): number[] {
  const stack = new Int32Array(experts); // most recent first
  const atDepth = new Array<number>(experts).fill(0);
  let used = 0;
  for (let i = 0; i < seq.length; i++) {
    const e = seq[i];
    let p = 0;
    while (p < used && stack[p] !== e) p++;
    if (p < used) atDepth[p]++;
    else used++;
    stack.copyWithin(1, 0, p);
    stack[0] = e;
  }
  let hits = 0;
  return atDepth.map((h) => (hits += h));
}

/**
 * Per layer over texts (each text starts with an empty cache): SRP with K experts and SCH with `schCache` experts
 * over segments of `segment` tokens, the LRU hit rate for C = 1 … E and the expert bytes read per token on a miss.
 * `texts[i][l]` = text i's routing at layer l, flat: [t·K + k].
 */
export function offloadLayers(texts: readonly (readonly ArrayLike<number>[])[], shape: RoutingShape & { layers: number }, segment: number, schCache: number, expertBytes: number) {
  const { layers: L, experts: E, topK: K } = shape;
  const out = [];
  for (let l = 0; l < L; l++) {
    const srp = { covered: 0, activations: 0 };
    const sch = { covered: 0, activations: 0 };
    const hits = new Array<number>(E).fill(0);
    let lookups = 0;
    let tokens = 0;
    for (const text of texts) {
      const seq = text[l];
      tokens += seq.length / K;
      lookups += seq.length;
      const a = segmentCoverage(seq, shape, segment, K);
      const b = segmentCoverage(seq, shape, segment, schCache);
      srp.covered += a.covered;
      srp.activations += a.activations;
      sch.covered += b.covered;
      sch.activations += b.activations;
      lruHitsByCapacity(seq, E).forEach((h, c) => (hits[c] += h));
    }
    const rate = (x: { covered: number; activations: number }) => (x.activations ? x.covered / x.activations : NaN);
    out.push({
      layer: l,
      srp: rate(srp),
      sch: rate(sch),
      lruHitRate: hits.map((h) => (lookups ? h / lookups : NaN)),
      bytesPerToken: hits.map((h) => (tokens ? ((lookups - h) * expertBytes) / tokens : NaN)),
    });
  }
  return out;
}

// Expert offloading simulation over a routed corpus, per layer (docs/PRUNING.md, "Offloading"). `seq` is one layer's
// routing of one text: seq[t] = the experts token t selected. Definitions after "Not All Models Suit Expert
// Offloading" (local routing consistency):
// - SRP(m): split the text into segments of m tokens; for each, the best fixed set of K experts covers
//   max_{|S|=K} Σ_t |S ∩ A_t| of its Σ_t |A_t| activations; SRP is covered / activations over all segments. Σ_t |S ∩ A_t|
//   = Σ_{e∈S} count(e), so the best S is the K most frequent experts of the segment (exact, not a heuristic).
// - SCH(m, C): the same with a set of C experts (a cache that is refilled optimally once per segment).
// - LRU: a cache of C experts per layer, filled on a miss and evicting the least recently used.

export interface Coverage {
  covered: number;
  activations: number;
}

/** Σ over segments of the activations that the best set of `size` experts per segment covers. */
export function segmentCoverage(seq: readonly (readonly number[])[], segment: number, size: number): Coverage {
  let covered = 0;
  let activations = 0;
  for (let s = 0; s < seq.length; s += segment) {
    const count = new Map<number, number>();
    for (const a of seq.slice(s, s + segment)) {
      for (const e of a) count.set(e, (count.get(e) ?? 0) + 1);
      activations += a.length;
    }
    covered += [...count.values()].sort((x, y) => y - x).slice(0, size).reduce((x, y) => x + y, 0);
  }
  return { covered, activations };
}

export interface LruCount {
  hits: number;
  lookups: number;
}

/** Hits of an LRU cache of `capacity` experts over the sequence, starting empty. */
export function lruHits(seq: readonly (readonly number[])[], capacity: number): LruCount {
  const cache: number[] = []; // most recent last
  let hits = 0;
  let lookups = 0;
  for (const a of seq) {
    for (const e of a) {
      lookups++;
      const at = cache.indexOf(e);
      if (at >= 0) {
        hits++;
        cache.splice(at, 1);
      } else if (cache.length >= capacity) cache.shift();
      cache.push(e);
    }
  }
  return { hits, lookups };
}

/**
 * Per layer over texts (each text starts with an empty cache): SRP with K experts and SCH with `schCache` experts
 * over segments of `segment` tokens, the LRU hit rate for C = 1 … E and the expert bytes read per token on a miss.
 * `texts[i][l][t]` = the experts token t of text i selected at layer l.
 */
export function offloadLayers(texts: readonly (readonly (readonly (readonly number[])[])[])[], shape: { layers: number; experts: number; topK: number }, segment: number, schCache: number, expertBytes: number) {
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
      tokens += seq.length;
      const a = segmentCoverage(seq, segment, K);
      const b = segmentCoverage(seq, segment, schCache);
      srp.covered += a.covered;
      srp.activations += a.activations;
      sch.covered += b.covered;
      sch.activations += b.activations;
      for (let c = 1; c <= E; c++) {
        const r = lruHits(seq, c);
        hits[c - 1] += r.hits;
        if (c === 1) lookups += r.lookups;
      }
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

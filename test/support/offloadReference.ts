// The offloading simulation as it was before common/offloadSim.ts took flat sequences and one stack pass for every
// cache size: a Map per segment, and one LRU cache simulated as it fills for each size. The definitions the fast code
// must equal (test/unit/expertPruning.test.ts) and the "before" of bench/prune.ts. seq[t] = the experts token t selected.

/** Σ over segments of the activations that the best set of `size` experts per segment covers (seq[t] = token t's experts). */
export function referenceSegmentCoverage(seq: readonly (readonly number[])[], segment: number, size: number): { covered: number; activations: number } {
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

/** Hits of an LRU cache of `capacity` experts over the sequence, starting empty: the cache simulated as it fills. */
export function referenceLruHits(seq: readonly (readonly number[])[], capacity: number): { hits: number; lookups: number } {
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

/** offloadLayers of common/offloadSim.ts, one LRU simulation per cache size (texts[i][l][t] = the experts). */
export function referenceOffloadLayers(texts: readonly (readonly (readonly (readonly number[])[])[])[], shape: { layers: number; experts: number; topK: number }, segment: number, schCache: number, expertBytes: number) {
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
      const a = referenceSegmentCoverage(seq, segment, K);
      const b = referenceSegmentCoverage(seq, segment, schCache);
      srp.covered += a.covered;
      srp.activations += a.activations;
      sch.covered += b.covered;
      sch.activations += b.activations;
      for (let c = 1; c <= E; c++) {
        const r = referenceLruHits(seq, c);
        hits[c - 1] += r.hits;
        if (c === 1) lookups += r.lookups;
      }
    }
    const rate = (x: { covered: number; activations: number }) => (x.activations ? x.covered / x.activations : NaN);
    out.push({ layer: l, srp: rate(srp), sch: rate(sch), lruHitRate: hits.map((h) => (lookups ? h / lookups : NaN)), bytesPerToken: hits.map((h) => (tokens ? ((lookups - h) * expertBytes) / tokens : NaN)) });
  }
  return out;
}

// The pruning quality curve (docs/PRUNING.md): held-out bits per token for each kept fraction, pruning by the chosen
// criterion, by frequency (the baseline criterion), at random (seeded draws: mean and sd) and, when asked, merging
// (common/expertMerging.ts) down to the same count. Pruning is measured as steering (the pruned experts disabled);
// test/model/prune.test.ts shows that the exported model with the experts removed routes the same and gives the same
// logits. Merging changes weights, so each merged point is an exported model, loaded and measured.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importanceScores, keepCount, keptAtRandom, keptByScore, meanSd, prunedPairs, pruningThreshold } from '../../common/expertImportance';
import { mergeGroups } from '../../common/expertMerging';
import { curveSteps } from '../../common/pruneEvents';
import type { CurvePoint, ImportanceCriterion } from '../../common/pruneProtocol';
import { ModelSession } from '../model/modelSession';
import { mulberry32 } from '../steering/prng';
import type { CorpusProfile } from './corpusProfile';
import { bitsPerToken, disableRules } from './evalBits';
import { exportReduced, type ExpertPlan } from './exportModel';
import type { MoeGraph } from './moeGraph';

export const DEFAULT_FRACTIONS = [1, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25];

export interface CurveOptions {
  criterion: ImportanceCriterion;
  fractions?: readonly number[];
  draws?: number;
  seed?: number;
  tolerance?: number;
  merge?: boolean;
  maxTokens: number;
  /** deltaP: the second set's profile */
  contrast?: CorpusProfile;
  isCancelled?: () => boolean;
  onProgress?: (message: string) => void;
  /** after each held-out measurement: steps done of total (common/pruneEvents.ts curveSteps) */
  onStep?: (done: number, total: number, message: string) => void;
}

export interface Curve {
  baselineBitsPerToken: number;
  evalTokens: number;
  threshold: number;
  points: CurvePoint[];
  scores: number[][];
}

/** MC-SMoE merging of every layer down to `keep` experts, as an export plan. */
export function mergePlan(p: CorpusProfile, keep: number): ExpertPlan {
  const { layers: L, experts: E } = p.counts;
  return Array.from({ length: L }, (_, l) => mergeGroups(p.counts.freq.subarray(l * E, (l + 1) * E), p.gram[l], keep).map((g) => ({ mix: g.members, router: g.dominant })));
}

export async function pruneCurve(g: MoeGraph, profile: CorpusProfile, evalTexts: readonly string[], opts: CurveOptions): Promise<Curve> {
  const { layers: L, experts: E, topK: K } = g.manifest;
  const scores = importanceScores(profile.counts, opts.criterion, opts.contrast?.counts);
  const freq = importanceScores(profile.counts, 'frequency');
  const draws = opts.draws ?? 5;
  const tolerance = opts.tolerance ?? 0.02;
  const evalOpts = { maxTokens: opts.maxTokens, isCancelled: opts.isCancelled };
  const session = await ModelSession.load(g.dir, 'cpu');
  const keeps = [...new Set((opts.fractions ?? DEFAULT_FRACTIONS).map((f) => keepCount(f, E, K)))].sort((a, b) => b - a);
  const total = curveSteps(keeps.filter((k) => k < E).length, draws, opts.criterion === 'frequency', !!opts.merge);
  let done = 0;
  const step = (message: string) => opts.onStep?.(++done, total, message);
  const measure = async (kept: number[][], what: string) => {
    const bits = (await bitsPerToken(session, evalTexts, disableRules(prunedPairs(kept, E)), evalOpts)).bitsPerToken;
    step(what);
    return bits;
  };
  const points: CurvePoint[] = [];
  let base: { bitsPerToken: number; tokens: number };
  try {
    base = await bitsPerToken(session, evalTexts, [], evalOpts);
    step('unpruned baseline');
    for (const keep of keeps) {
      opts.onProgress?.(`${keep} of ${E} experts per layer`);
      if (keep === E) {
        points.push({ keptFraction: 1, kept: E, bitsPerToken: base.bitsPerToken, frequencyBitsPerToken: base.bitsPerToken, randomBitsPerToken: { mean: base.bitsPerToken, sd: 0, draws: [] }, ...(opts.merge ? { mergedBitsPerToken: base.bitsPerToken } : {}) });
        continue;
      }
      const at = `${keep} of ${E} experts per layer`;
      const chosen = await measure(keptByScore(scores, keep), `${at}: ${opts.criterion}`);
      const byFreq = opts.criterion === 'frequency' ? chosen : await measure(keptByScore(freq, keep), `${at}: frequency`);
      const random = mulberry32((opts.seed ?? 0) * 1000 + keep);
      const randomBits: number[] = [];
      for (let d = 0; d < draws; d++) randomBits.push(await measure(keptAtRandom(L, E, keep, random), `${at}: random draw ${d + 1} of ${draws}`));
      const point: CurvePoint = { keptFraction: keep / E, kept: keep, bitsPerToken: chosen, frequencyBitsPerToken: byFreq, randomBitsPerToken: { ...meanSd(randomBits), draws: randomBits } };
      if (opts.merge) {
        point.mergedBitsPerToken = await mergedBits(g, profile, keep, evalTexts, opts.maxTokens);
        step(`${at}: merged`);
      }
      points.push(point);
    }
  } finally {
    await session.dispose();
  }
  return { baselineBitsPerToken: base.bitsPerToken, evalTokens: base.tokens, threshold: pruningThreshold(points, base.bitsPerToken, tolerance), points, scores };
}

async function mergedBits(g: MoeGraph, profile: CorpusProfile, keep: number, evalTexts: readonly string[], maxTokens: number): Promise<number> {
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-merge-'));
  try {
    const dir = join(tmp, 'model');
    exportReduced(g, mergePlan(profile, keep), dir, { method: `merged (MC-SMoE grouping, frequency-weighted) to ${keep} experts per layer` });
    const merged = await ModelSession.load(dir, 'cpu');
    try {
      return (await bitsPerToken(merged, evalTexts, [], { maxTokens })).bitsPerToken;
    } finally {
      await merged.dispose();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

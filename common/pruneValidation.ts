// Hand-written checks of the `moe-lens importance | prune | offload` results (common/pruneProtocol.ts): the extension
// reads them from a child process's stdout and hands them to the routing panel, which draws them. Each check holds the
// arrays to the lengths the header promises, so no chart can index past them. Pure.
import { IMPORTANCE_CRITERIA, type ImportanceCriterion, type ImportanceResult, type OffloadResult, type PruneResult } from './pruneProtocol';

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isInt = (x: unknown, min = 0): x is number => Number.isInteger(x) && (x as number) >= min;
const isNums = (x: unknown, len?: number): x is number[] => Array.isArray(x) && (len === undefined || x.length === len) && x.every(isNum);
const isFraction = (x: unknown): x is number => isNum(x) && x >= 0 && x <= 1;
const isCriterion = (x: unknown): x is ImportanceCriterion => IMPORTANCE_CRITERIA.includes(x as ImportanceCriterion);

/** scores[layer][expert]: at least one layer, every row the same (non-zero) length. */
export function isImportanceResult(x: unknown): x is ImportanceResult {
  if (!isObj(x) || !isCriterion(x.criterion) || !isInt(x.tokens) || !Array.isArray(x.scores) || !x.scores.length) return false;
  const E = Array.isArray(x.scores[0]) ? x.scores[0].length : 0;
  return E > 0 && x.scores.every((row) => isNums(row, E));
}

function isCurvePoint(p: unknown): boolean {
  if (!isObj(p) || !isFraction(p.keptFraction) || !isInt(p.kept, 1) || !isNum(p.bitsPerToken) || !isNum(p.frequencyBitsPerToken)) return false;
  const r = p.randomBitsPerToken;
  return isObj(r) && isNum(r.mean) && isNum(r.sd) && r.sd >= 0 && isNums(r.draws) && (p.mergedBitsPerToken === undefined || isNum(p.mergedBitsPerToken));
}

export function isPruneResult(x: unknown): x is PruneResult {
  if (!isObj(x) || !isNum(x.baselineBitsPerToken) || !isFraction(x.threshold) || !isNum(x.tolerance) || !isCriterion(x.criterion)) return false;
  if (!(x.out === null || typeof x.out === 'string') || !isObj(x.tokens) || !isInt(x.tokens.corpus) || !isInt(x.tokens.eval)) return false;
  if (!Array.isArray(x.warnings) || !x.warnings.every((w) => typeof w === 'string')) return false;
  if (!isInt(x.keep, 1)) return false;
  return Array.isArray(x.disabled) && x.disabled.every((d) => Array.isArray(d) && d.length === 2 && isInt(d[0]) && isInt(d[1])) && Array.isArray(x.curve) && x.curve.length > 0 && x.curve.every(isCurvePoint);
}

export function isOffloadResult(x: unknown): x is OffloadResult {
  if (!isObj(x) || !isInt(x.segment, 1) || !isInt(x.schCache, 1) || !isNum(x.expertBytes) || !isInt(x.tokens) || !Array.isArray(x.layers) || !x.layers.length) return false;
  const first = x.layers[0] as Obj | undefined;
  const E = isObj(first) && Array.isArray(first.lruHitRate) ? first.lruHitRate.length : 0;
  return E > 0 && x.layers.every((l) => isObj(l) && isInt(l.layer) && isFraction(l.srp) && isFraction(l.sch) && isNums(l.lruHitRate, E) && (l.lruHitRate as number[]).every(isFraction) && isNums(l.bytesPerToken, E));
}

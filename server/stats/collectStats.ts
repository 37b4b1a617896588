// Routing statistics over texts (moe-lens stats, moeLens/stats): each text routed alone by the model (or taken from
// an engine trace), accumulated by the pure RoutingStatsAccumulator (common/routingStats.ts). p_i needs the router's
// full distribution, which a RoutingResult does not carry: the analysis adds it up on the side (routerProbSums).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RoutingResult, StatsResult, SteeringRule } from '../../common/protocol';
import { RoutingStatsAccumulator, type StatsInput } from '../../common/routingStats';
import { analyzeText, CancelledError } from '../analysis/analyzer';
import type { ModelSession } from '../model/modelSession';

/** A text to count: its name (file, uri or profile:<domain>) and either its text or routing already recorded. */
export interface StatsText {
  name: string;
  /** the text, routed by the model; or a function that reads it (read when its turn comes) */
  text?: string | (() => Promise<string>);
  /** routing recorded elsewhere (an engine trace): counted as is */
  routing?: RoutingResult;
}

export interface CollectOptions {
  maxTokens: number;
  rules: readonly SteeringRule[];
  isCancelled?: () => boolean;
  onProgress?: (done: number, total: number, name: string) => void;
}

/** What the accumulator needs from a routing result: arrays the source lacks become null, never zeros. */
export function statsInput(r: RoutingResult, probSums?: Float64Array): StatsInput {
  const absent = new Set(r.absent ?? []);
  return {
    ids: r.ids,
    experts: r.experts,
    weights: absent.has('weights') ? null : r.weights,
    entropy: absent.has('entropy') ? null : r.entropy,
    probSums: probSums ?? null,
    notRecorded: r.notRecorded,
  };
}

/** The model's profile corpus (moe.json profileCorpus) as texts named profile:<domain>; [] when it has none. */
export function profileTexts(session: ModelSession): StatsText[] {
  const domains = session.manifest.profileCorpus?.domains ?? {};
  return Object.entries(domains)
    .map(([domain, file]) => ({ domain, path: join(session.dir, file) }))
    .filter((d) => existsSync(d.path))
    .map((d) => ({ name: `profile:${d.domain}`, text: () => readFile(d.path, 'utf8') }));
}

/** Routes each text alone (batch of one, as every analysis here) and returns the per-layer statistics of them all. */
export async function collectStats(session: ModelSession, texts: readonly StatsText[], opts: CollectOptions): Promise<StatsResult> {
  const { layers: L, experts: E, topK: K, name } = session.info;
  const acc = new RoutingStatsAccumulator(session.info);
  const traced: string[] = [];
  for (let i = 0; i < texts.length; i++) {
    if (opts.isCancelled?.()) throw new CancelledError();
    const s = texts[i];
    opts.onProgress?.(i, texts.length, s.name);
    if (s.routing) {
      acc.add(statsInput(s.routing));
      traced.push(s.name);
      continue;
    }
    const text = typeof s.text === 'function' ? await s.text() : (s.text ?? '');
    const probSums = new Float64Array(L * E);
    const r = await analyzeText(session, text, 0, { maxTokens: opts.maxTokens, rules: opts.rules, isCancelled: opts.isCancelled, routerProbSums: probSums });
    acc.add(statsInput(r, probSums));
  }
  opts.onProgress?.(texts.length, texts.length, '');
  return {
    model: { name, layers: L, experts: E, topK: K },
    tokens: acc.tokens,
    files: texts.map((t) => t.name),
    steered: opts.rules.length > 0,
    ...(traced.length ? { traced } : {}),
    layers: acc.layers(),
  };
}

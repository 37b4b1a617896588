// Expert labels: what each (layer, expert) takes on the model's profile corpus (held-out text per training domain) —
// its most frequent top-1 tokens, the character class and the domain it is enriched for — in a short label such as
// "Python · lowercase (def, self)" (the words are explained in the README's "Labels"). OLMoE's routing analysis found domain-concentrated experts and
// OpenMoE token-ID specialisation: these labels surface both. Shipped with a model (shippedLabels.ts), else computed
// once per model and cached.
import { slotIndex } from '../../common/routingLayout';
import { analyzeText, type AnalyzeOptions } from '../analysis/analyzer';
import { readModelText } from '../model/modelFiles';
import type { ModelBackend } from '../model/backend';
import { LABELS_FORMAT, labelCacheKey, readCachedLabels, writeCachedLabels } from './labelCache';
import { readShippedLabels } from './shippedLabels';
import { CHAR_CLASSES, CHAR_CLASS_PHRASE, charClass, type CharClass } from './charClass';

export { expertUsage } from './usage';
export { labelCacheFile, labelCacheKey } from './labelCache';

export interface ExpertProfile {
  /** tokens with the expert in their top-k at its layer */
  activeTokens: number;
  /** tokens with the expert first in their top-k */
  top1Tokens: number;
  /**
   * the tokens it takes most: ranked by count · share, where count = how often the expert is the token's top-1 and
   * share = count over all occurrences of the token (1 = the expert takes every occurrence)
   */
  topTokens: { text: string; count: number; share: number }[];
  /** share of its active tokens in each class */
  classShare: Record<CharClass, number>;
  /** classShare over the class's share of all tokens (1 = no preference) */
  classEnrichment: Record<CharClass, number>;
  /**
   * share of the class's tokens that have the expert in their top-k (0 for classes too rare to judge): an expert can
   * take nearly every digit while digits stay a small part of its traffic, which share and enrichment would miss
   */
  classCoverage?: Record<CharClass, number>;
  /** P(active | domain) / P(active) (1 = no preference) */
  domainEnrichment: Record<string, number>;
}

/** One routed text of the profile corpus: token ids and token-major top-k ids. */
export interface ProfileRouting {
  domain: string;
  ids: readonly number[];
  experts: readonly number[];
}

/** A class needs this many tokens in the profile corpus before an expert's coverage of it counts. */
const MIN_CLASS_TOKENS = 20;

/** A token must be an expert's top-1 this often to be named in its label. */
const MIN_TOKEN_COUNT = 2;
/** ... and the expert must take at least this share of the token's occurrences. */
const MIN_TOKEN_SHARE = 0.25;

/** Pure: profiles every (layer, expert) from routed texts. Returns profiles[layer][expert]. */
export function profileExperts(
  routings: readonly ProfileRouting[],
  shape: { layers: number; experts: number; topK: number },
  tokenText: (id: number) => string,
  topTokens = 3,
): ExpertProfile[][] {
  const { layers: L, experts: E, topK: K } = shape;
  const domains = [...new Set(routings.map((r) => r.domain))];
  const C = CHAR_CLASSES.length;
  const active = new Float64Array(L * E);
  const top1 = new Float64Array(L * E);
  const byClass = new Float64Array(L * E * C);
  const byDomain = new Float64Array(L * E * domains.length);
  const classTotal = new Float64Array(C);
  const domainTotal = new Float64Array(domains.length);
  const top1Ids = Array.from({ length: L * E }, () => new Map<number, number>());
  const occurrences = new Map<number, number>();
  let total = 0;
  const classOf = new Map<number, number>();
  for (const r of routings) {
    const d = domains.indexOf(r.domain);
    for (let t = 0; t < r.ids.length; t++) {
      const id = r.ids[t];
      let c = classOf.get(id);
      if (c === undefined) classOf.set(id, (c = CHAR_CLASSES.indexOf(charClass(tokenText(id)))));
      total++;
      occurrences.set(id, (occurrences.get(id) ?? 0) + 1);
      classTotal[c]++;
      domainTotal[d]++;
      for (let l = 0; l < L; l++) {
        for (let k = 0; k < K; k++) {
          const i = l * E + r.experts[slotIndex(shape, t, l, k)];
          active[i]++;
          byClass[i * C + c]++;
          byDomain[i * domains.length + d]++;
          if (k === 0) {
            top1[i]++;
            top1Ids[i].set(id, (top1Ids[i].get(id) ?? 0) + 1);
          }
        }
      }
    }
  }
  const profiles: ExpertProfile[][] = [];
  for (let l = 0; l < L; l++) {
    const row: ExpertProfile[] = [];
    for (let e = 0; e < E; e++) {
      const i = l * E + e;
      const classShare = {} as Record<CharClass, number>;
      const classEnrichment = {} as Record<CharClass, number>;
      const classCoverage = {} as Record<CharClass, number>;
      CHAR_CLASSES.forEach((cls, c) => {
        classShare[cls] = active[i] ? byClass[i * C + c] / active[i] : 0;
        classCoverage[cls] = classTotal[c] >= MIN_CLASS_TOKENS ? byClass[i * C + c] / classTotal[c] : 0;
        classEnrichment[cls] = classTotal[c] && total ? classShare[cls] / (classTotal[c] / total) : 0;
      });
      const domainEnrichment: Record<string, number> = {};
      const overall = total ? active[i] / total : 0;
      domains.forEach((name, d) => {
        domainEnrichment[name] = domainTotal[d] && overall ? byDomain[i * domains.length + d] / domainTotal[d] / overall : 0;
      });
      // count · share favours tokens that are both frequent for the expert and specific to it (a plain count would
      // name "\n" and "." for every expert; a plain share would name tokens seen once)
      const score = ([id, n]: [number, number]) => (n * n) / occurrences.get(id)!;
      const tops = [...top1Ids[i]].filter(([, n]) => n >= MIN_TOKEN_COUNT).sort((a, b) => score(b) - score(a) || a[0] - b[0]).slice(0, topTokens);
      row.push({
        activeTokens: active[i],
        top1Tokens: top1[i],
        topTokens: tops.map(([id, n]) => ({ text: tokenText(id), count: n, share: n / occurrences.get(id)! })),
        classShare,
        classEnrichment,
        classCoverage,
        domainEnrichment,
      });
    }
    profiles.push(row);
  }
  return profiles;
}

/** A token as a label shows it: the leading space BPE glues to words dropped, control characters escaped. */
export function displayToken(text: string): string {
  // indentation tokens ("\n" plus 12 spaces) are common in code: show runs of spaces counted, not as blanks
  const spaces = (run: string) => (run.length === 1 ? '␣' : `␣×${run.length}`);
  if (/^\s+$/.test(text)) return text.replace(/ +/g, spaces).replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  const s = text.startsWith(' ') ? text.slice(1) : text;
  return s.replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '·');
}

/** A domain counts as preferred when the expert is this much more active on it than on average. */
const DOMAIN_ENRICHMENT = 1.5;
/** A class counts as preferred when it makes this share of the expert's tokens and is this much enriched. */
const CLASS_MIN_SHARE = 0.15;
const CLASS_ENRICHMENT = 1.3;
/** A class counts as owned when the expert is in the top-k of at least this share of its tokens. */
const CLASS_COVERAGE = 0.5;

/** Display names of the profile corpus's domains (file names such as typescript_js); others: "_" becomes "/". */
const DOMAIN_NAMES: Record<string, string> = { python: 'Python', typescript_js: 'TS/JS', c_cpp: 'C/C++', markdown: 'Markdown', json: 'JSON' };
export const domainName = (d: string): string => DOMAIN_NAMES[d] ?? d.replace(/_/g, '/');

/** At most this many example tokens in a label, each at most EXAMPLE_CHARS long (longer ones are rare BPE merges). */
const EXAMPLES = 2;
const EXAMPLE_CHARS = 10;

/** Pure: the label text for a profile, e.g. "Python · lowercase (def, self)". */
export function labelFor(p: ExpertProfile): string {
  if (!p.activeTokens) return 'unused on the profile corpus';
  const parts: string[] = [];
  // up to two domains: code experts are often shared by two languages, and naming only one would hide that
  const domains = Object.entries(p.domainEnrichment).filter(([, x]) => x >= DOMAIN_ENRICHMENT).sort((a, b) => b[1] - a[1]).slice(0, 2);
  if (domains.length) parts.push(domains.map(([d]) => domainName(d)).join(' & '));
  // A class the expert takes most of comes first ("digits" for the expert that routes nearly every digit), then the
  // classes that make up much of its own traffic.
  const owned = CHAR_CLASSES.filter((c) => (p.classCoverage?.[c] ?? 0) >= CLASS_COVERAGE).sort((a, b) => p.classCoverage![b] - p.classCoverage![a]);
  const enriched = CHAR_CLASSES.filter((c) => p.classShare[c] >= CLASS_MIN_SHARE && p.classEnrichment[c] >= CLASS_ENRICHMENT)
    .sort((a, b) => p.classEnrichment[b] - p.classEnrichment[a]);
  const preferred = [...new Set([...owned, ...enriched])].slice(0, 2);
  const classes = preferred.length ? preferred : [CHAR_CLASSES.reduce((a, b) => (p.classShare[b] > p.classShare[a] ? b : a))];
  parts.push(classes.map((c) => CHAR_CLASS_PHRASE[c]).join(' & '));
  // Examples the expert really owns (a high share), short and not word pieces of other words' merges.
  const tokens = p.topTokens.filter((t) => t.share >= MIN_TOKEN_SHARE).map((t) => displayToken(t.text)).filter((s) => s.length > 0 && s.length <= EXAMPLE_CHARS).slice(0, EXAMPLES);
  return parts.join(' · ') + (tokens.length ? ` (${tokens.join(', ')})` : '');
}

export interface ExpertLabelSet {
  modelId: string;
  domains: string[];
  labels: string[][];
  /** the profiles behind the labels (absent when the labels came from the shipped file or the cache) */
  profiles?: ExpertProfile[][];
}

/** Tokens profiled per domain at most. */
const PROFILE_TOKENS = 4096;

/**
 * The profile corpus files of the model directory (each confined to it: modelFiles.ts), in manifest order; a missing
 * file is skipped (a partial corpus still labels by the domains it has).
 */
export async function readProfileCorpus(session: ModelBackend): Promise<{ domain: string; text: string }[]> {
  const domains = session.manifest.profileCorpus?.domains ?? {};
  const out: { domain: string; text: string }[] = [];
  for (const [domain, file] of Object.entries(domains)) {
    try {
      out.push({ domain, text: await readModelText(session.dir, file, 'corpus', `/profileCorpus/domains/${domain}`) });
    } catch (e) {
      if (!/file is missing/.test((e as Error).message)) throw e;
    }
  }
  return out;
}

/** How the profiling pass runs: `schedule` runs each model call (the server: behind the documents' analyses). */
export type LabelRun = Pick<AnalyzeOptions, 'isCancelled' | 'schedule'>;

/** Routes the profile corpus and labels every expert; null when the model has no corpus. */
export async function computeExpertLabels(session: ModelBackend, run: LabelRun = {}, corpus?: { domain: string; text: string }[]): Promise<ExpertLabelSet | null> {
  const texts = corpus ?? (await readProfileCorpus(session));
  const routings: ProfileRouting[] = [];
  for (const { domain, text } of texts) {
    const r = await analyzeText(session, text, 0, { maxTokens: PROFILE_TOKENS, rules: [], ...run });
    routings.push({ domain, ids: r.ids, experts: r.experts });
  }
  if (!routings.length) return null;
  const profiles = profileExperts(routings, session.info, (id) => session.tokenizer.tokenText(id));
  return { modelId: session.modelId, domains: routings.map((r) => r.domain), labels: profiles.map((row) => row.map(labelFor)), profiles };
}

const memory = new Map<string, Promise<ExpertLabelSet | null>>();

/**
 * Labels for the session's model: the ones its directory ships when they fit it (shippedLabels.ts), else computed
 * once per process and, when the client gave a cache folder, kept there between sessions (labelCache.ts). Without
 * `cacheDir` nothing is written. A shipped file or cache that cannot be read or written is not an error: the labels
 * are computed again. `run` applies to the computation this call starts (a
 * second caller shares the first one's).
 */
export function expertLabels(session: ModelBackend, cacheDir: string | undefined, run: LabelRun = {}): Promise<ExpertLabelSet | null> {
  const key = `${cacheDir ?? ''}\0${session.modelId}\0${session.dir}`;
  let p = memory.get(key);
  if (!p) {
    p = loadOrCompute(session, cacheDir, run);
    memory.set(key, p);
    p.catch(() => memory.delete(key)); // a failed run (e.g. model disposed) may be retried
  }
  return p;
}

async function loadOrCompute(session: ModelBackend, cacheDir: string | undefined, run: LabelRun): Promise<ExpertLabelSet | null> {
  const corpus = await readProfileCorpus(session);
  if (!corpus.length) return null;
  const key = labelCacheKey(session.modelId, corpus);
  const domains = corpus.map((c) => c.domain);
  const shipped = await readShippedLabels(session, key, domains);
  if (shipped) return { modelId: session.modelId, domains: shipped.domains, labels: shipped.labels };
  if (cacheDir) {
    const cached = await readCachedLabels(cacheDir, key, session.info, domains);
    if (cached) return { modelId: session.modelId, domains: cached.domains, labels: cached.labels };
  }
  const set = await computeExpertLabels(session, run, corpus);
  if (set && cacheDir) {
    // read-only storage: the labels still work for this session
    await writeCachedLabels(cacheDir, { format: LABELS_FORMAT, key, domains: set.domains, labels: set.labels }).catch(() => undefined);
  }
  return set;
}

// `moe-lens stats FILE|GLOB… [--model DIR] [--json] [--profile] [--max-tokens N] [--provider P]`: per-layer routing
// statistics over files (common/routingStats.ts), as a table or as JSON (StatsResult, the moeLens/stats shape).
import { readFileSync, statSync } from 'node:fs';
import type { ExecutionProviderSetting } from '../../common/protocol';
import { ModelLoadError } from '../model/errors';
import type { ModelBackend } from '../model/backend';
import { ModelSession } from '../model/modelSession';
import { collectStats, profileTexts, type StatsText } from '../stats/collectStats';
import { expandGlobs } from '../stats/expandGlobs';

export const STATS_USAGE = `usage: moe-lens stats FILE|GLOB… [--model DIR] [--json] [--profile] [--max-tokens N] [--provider P]

  Routes each file alone and prints per-layer routing statistics over all of them: load per expert (f_i), mean
  router probability (p_i), load-balance loss E·Σ f_i·p_i, dead experts, top-1 repeat of consecutive tokens vs
  chance, token-id consistency of the top-1 expert, mean router entropy (nats).

  --json          print the statistics as JSON (layers[l].load, meanProb, lbl, deadExperts, top1Repeat,
                  top1RepeatChance, tokenIdConsistency, meanEntropy; tokens, files, model)
  --profile       also count the model's profile corpus (moe.json profileCorpus)
  --model DIR     a model directory; default: the embedded model
  --max-tokens N  analyse at most N tokens of each file (default 4096)`;

export interface StatsArgs {
  files: string[];
  json: boolean;
  profile: boolean;
  model: string;
  maxTokens: number;
  provider: ExecutionProviderSetting;
}

// The table is shared with the editor's log (common/statsTable.ts).
export { statsTable } from '../../common/statsTable';
import { statsTable } from '../../common/statsTable';

/** Runs the command; returns the exit code. Unusable input (missing or unreadable file) exits 2 naming the file. */
export async function runStats(args: StatsArgs, err: (s: string) => void, out: (s: string) => void): Promise<number> {
  const texts: StatsText[] = [];
  for (const f of expandGlobs(args.files)) {
    const st = statSync(f, { throwIfNoEntry: false });
    if (!st || !st.isFile()) {
      err(`moe-lens: no such file: ${f}\n`);
      return 2;
    }
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      err(`moe-lens: cannot read ${f}: ${(e as Error).message}\n`);
      return 2;
    }
    if (text.includes('\u0000')) {
      err(`moe-lens: ${f} is not a text file (it holds NUL bytes)\n`);
      return 2;
    }
    texts.push({ name: f, text });
  }
  let session: ModelBackend;
  try {
    session = await ModelSession.load(args.model, args.provider);
  } catch (e) {
    if (!(e instanceof ModelLoadError)) throw e;
    err(`moe-lens: cannot load the model in ${args.model}: ${e.message}\n`);
    return 2;
  }
  try {
    if (args.profile) {
      const profile = profileTexts(session);
      if (!profile.length) {
        err(`moe-lens: the model in ${args.model} has no profile corpus (moe.json profileCorpus)\n`);
        return 2;
      }
      texts.push(...profile);
    }
    if (!texts.length) {
      err('moe-lens: no files to count\n');
      return 2;
    }
    const s = await collectStats(session, texts, { maxTokens: args.maxTokens, rules: [] });
    out(args.json ? `${JSON.stringify(s)}\n` : statsTable(s));
    return 0;
  } finally {
    await session.dispose();
  }
}

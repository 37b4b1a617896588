// "MoE Lens: Expert Offloading…": `moe-lens offload` on a corpus in a child process (cancellable progress), then the
// LRU hit rate against the cache size C per layer, with SRP and SCH, in the routing panel.
import { basename } from 'node:path';
import type { OffloadResult, TextSource } from '../../common/pruneProtocol';
import type { Ctx } from '../ctx';
import { pickTexts } from './pickTexts';
import { offloadArgs } from './pruneCliArgs';
import { reportOutcome, withCliProgress } from './pruneCommand';

export interface OffloadCommandArgs {
  /** paths, or inline texts ({ name, text }) */
  corpus: TextSource[];
  /** SRP / SCH segment length in tokens (the CLI's default 16) */
  segment?: number;
}

export async function expertOffloading(ctx: Ctx, arg?: unknown): Promise<OffloadResult | undefined> {
  const a = arg as OffloadCommandArgs | undefined;
  const corpus = a?.corpus ?? (await pickTexts('MoE Lens: simulate expert offloading on which texts?'));
  if (!corpus?.length) return undefined;
  const model = ctx.config.server.modelPath || undefined;
  const outcome = await withCliProgress(ctx, 'MoE Lens: expert offloading', (step) => step(offloadArgs({ model, corpus, segment: a?.segment }), 'offload', 0, 1));
  if (!reportOutcome(ctx, 'the offloading simulation', outcome) || outcome.kind !== 'done' || outcome.done.command !== 'offload') return undefined;
  const r = outcome.done.result;
  const caption = `${model ? basename(model) : 'the embedded model'} · ${corpus.length} text(s), ${r.tokens} tokens`;
  ctx.output.info(`offloading: ${caption}; ${r.layers.map((l) => `L${l.layer} SRP ${l.srp.toFixed(3)} SCH ${l.sch.toFixed(3)}`).join(', ')}`);
  ctx.panel.showOffload(r, caption);
  return r;
}

// Per-document expert usage (moeLens/expertUsage): the shares of common/routingLayout.ts with the result's header.
import type { ExpertUsageResult, RoutingResult } from '../../common/protocol';
import { expertUsage as usageShares } from '../../common/routingLayout';

export function expertUsage(result: RoutingResult): Omit<ExpertUsageResult, 'uri'> {
  // a trace's unrecorded tokens are not counted (their ids are placeholders)
  const tokens = result.tokens - (result.notRecorded?.length ?? 0);
  return { version: result.version, tokens, steered: result.steered, ...usageShares(result) };
}

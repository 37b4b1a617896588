// Per-document expert usage (moeLens/expertUsage): the shares of common/routingLayout.ts with the result's header.
import type { ExpertUsageResult, RoutingResult } from '../../common/protocol';
import { expertUsage as usageShares } from '../../common/routingLayout';

export function expertUsage(result: RoutingResult): Omit<ExpertUsageResult, 'uri'> {
  return { version: result.version, tokens: result.tokens, steered: result.steered, ...usageShares(result) };
}

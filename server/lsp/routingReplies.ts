import type { PackedRoutingResult, RoutingParams, RoutingResult } from '../../common/protocol';
import { packRouting } from '../../common/routingCodec';

/**
 * Answers moeLens/routing in the encoding the client asked for. For "packed" it remembers the last result sent per
 * document, so the next answer can be a delta against it (only tokens after the unchanged prefix) when the client
 * says, with `since`, that it holds that version. One result per open document; forgotten on close.
 */
export class RoutingReplies {
  private readonly sent = new Map<string, RoutingResult>();

  /** `remember`: false for a document closed meanwhile (nothing is kept for it) */
  reply(params: RoutingParams, r: RoutingResult, remember = true): RoutingResult | PackedRoutingResult {
    if (params.encoding !== 'packed') return r;
    const uri = params.textDocument.uri;
    const last = this.sent.get(uri);
    const base = last && params.since === last.version ? last : undefined;
    if (remember) this.sent.set(uri, r);
    return packRouting(r, base);
  }

  forget(uri: string): void {
    this.sent.delete(uri);
  }
}

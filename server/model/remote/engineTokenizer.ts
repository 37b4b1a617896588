// Tokenisation by the engine itself (vLLM's /tokenize with token strings), for when no local tokenizer.json is at
// hand: the ids are the served model's own, and the token strings give each token's bytes and so its UTF-16 range.
import type { BackendTokenizer } from '../backend';
import type { EngineProtocol } from './engines';
import { requestJson, type RetryPolicy } from './http';
import { TraceError } from '../../trace/engineTrace';
import { isByteLevelPieces, offsetsFromPieces, pieceText } from './tokenPieces';

export class EngineTokenizer implements BackendTokenizer {
  /** token id → its text, learnt from every /tokenize answer (hover shows it) */
  private readonly texts = new Map<number, string>();

  constructor(private readonly base: string, private readonly engine: EngineProtocol, private readonly model: string, private readonly policy: RetryPolicy) {}

  /** Ids, UTF-16 offsets and the engine's context length, from one /tokenize request. */
  async encodeRemote(text: string, signal?: AbortSignal): Promise<{ ids: number[]; offsets: number[]; maxModelLen?: number }> {
    if (text.length === 0) return { ids: [], offsets: [] };
    const answer = await requestJson(this.base + this.engine.tokenizePath, this.engine.tokenizeBody(text, this.model), this.policy, signal);
    const tok = this.engine.parseTokenize(answer);
    if (!tok.pieces) throw new TraceError(`${this.engine.name}'s ${this.engine.tokenizePath} returned no token strings (token_strs): put the served model's tokenizer.json in moeLens.modelPath`);
    const placed = offsetsFromPieces(text, tok.pieces);
    if ('error' in placed) throw new TraceError(placed.error);
    const bl = isByteLevelPieces(tok.pieces);
    tok.ids.forEach((id, i) => this.texts.set(id, pieceText(tok.pieces![i], bl)));
    return { ids: tok.ids, offsets: placed.offsets, maxModelLen: tok.maxModelLen };
  }

  encode(): { ids: number[]; offsets: number[] } {
    throw new Error(`${this.engine.name} tokenises through the engine (asynchronously): this path needs a local tokenizer.json in moeLens.modelPath`);
  }

  decode(ids: number[]): string {
    return ids.map((id) => this.tokenText(id)).join('');
  }

  tokenText(id: number): string {
    return this.texts.get(id) ?? `<${id}>`;
  }
}

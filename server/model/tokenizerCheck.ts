// What a tokenizer must agree on with its manifest, checked by the server when it loads a model and by the importer
// before it converts one (so a checkpoint whose tokenizer the server would refuse is refused up front).
import { ModelLoadError } from './errors';
import type { MoeManifest } from './manifest';
import type { MoeTokenizer } from './tokenizer';

export type TokenizerTerms = Pick<MoeManifest, 'vocabSize' | 'addBos' | 'specialTokens' | 'tokenizer'>;

export function checkTokenizerFits(tokenizer: MoeTokenizer, m: TokenizerTerms): void {
  // Hugging Face checkpoints pad the embedding past the tokenizer's last id (Qwen: 151669 tokens, vocab_size 151936):
  // a tokenizer smaller than the logits is fine, a larger one would produce ids the model has no row for.
  if (tokenizer.vocabSize > m.vocabSize) {
    throw new ModelLoadError(`tokenizer has ${tokenizer.vocabSize} tokens but moe.json says vocabSize ${m.vocabSize}`, m.tokenizer, '/model/vocab');
  }
  if (m.addBos && tokenizer.tokenId(m.specialTokens?.bos ?? '') === undefined) {
    throw new ModelLoadError(`addBos is true but specialTokens.bos ${JSON.stringify(m.specialTokens?.bos?.slice(0, 40) ?? null)} is not a token of ${m.tokenizer}`, 'moe.json', '/specialTokens/bos');
  }
}

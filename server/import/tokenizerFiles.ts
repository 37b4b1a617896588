// tokenizer.json is read (confined, capped), parsed by the server's own tokenizer code and checked against the model
// as the server will check it (tokenizerCheck.ts), then written into the model folder: never copied unread.
// tokenizer_config.json says which strings are BOS and EOS, and whether a BOS token goes before the text
// (add_bos_token). transformers 5.18 keeps tokenizer.json's own post-processor when it has one
// (TokenizersBackend: _should_update_post_processor), so that decides first: a TemplateProcessing that starts with
// a special token adds it (Llama-2's "<s>"), a ByteLevel one adds nothing (DeepSeek-V3's, whose tokenizer_config says
// add_bos_token true, and which transformers encodes without BOS); add_bos_token decides only without one.
import { ModelLoadError } from '../model/errors';
import { checkTokenizerFits } from '../model/tokenizerCheck';
import { MoeTokenizer } from '../model/tokenizer';
import type { ModelSpec } from './config';
import { ImportError } from './errors';
import { hasEntry, readInputText } from './inputFiles';
import { parseJsonText, scanJson } from './jsonText';

export interface TokenInfo {
  bos?: string;
  eos?: string;
  addBos: boolean;
}

const tokenText = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined;

export async function readTokenizerConfig(dir: string): Promise<TokenInfo> {
  const file = 'tokenizer_config.json';
  if (!(await hasEntry(dir, file))) return { addBos: false };
  const c = parseJsonText(await readInputText(dir, file, 'tokenizerConfig'), file).value as Record<string, unknown> | null;
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new ImportError('is not a JSON object', file);
  const bos = tokenText(c.bos_token);
  const addBos = c.add_bos_token === true && bos !== undefined;
  return { bos, eos: tokenText(c.eos_token), addBos };
}

/**
 * tokenizer.json's text, after the server's parse and checks against `spec`, with `config`'s BOS decision as its
 * post-processor makes it (above); errors name the file.
 */
export async function readTokenizer(dir: string, spec: ModelSpec, config: TokenInfo): Promise<{ text: string; tokens: TokenInfo }> {
  const file = 'tokenizer.json';
  if (!(await hasEntry(dir, file))) throw new ImportError('file is missing (the importer needs the fast tokenizer file)', file);
  const text = await readInputText(dir, file, 'tokenizer');
  scanJson(text, file);
  const fromPost = templateBos((parseJsonText(text, file).value as Record<string, unknown> | null)?.post_processor);
  // the BOS string stays tokenizer_config.json's (checked against the vocabulary below), the template's without one
  const tokens = fromPost === null ? config : { ...config, addBos: fromPost !== false, bos: config.bos ?? (fromPost || undefined) };
  try {
    const tokenizer = MoeTokenizer.fromText(text, file);
    checkTokenizerFits(tokenizer, { vocabSize: spec.vocab, addBos: tokens.addBos, specialTokens: tokens.bos ? { bos: tokens.bos } : {}, tokenizer: file });
  } catch (e) {
    if (!(e instanceof ModelLoadError)) throw e;
    const prefix = `${e.file}${e.field ? ` (${e.field})` : ''}: `;
    const reason = (e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message).replace('moe.json says vocabSize', 'config.json says vocab_size').replace('addBos is true but specialTokens.bos', 'add_bos_token is true but bos_token');
    throw e.file === 'moe.json' ? new ImportError(reason, 'tokenizer_config.json', 'bos_token') : new ImportError(reason, file, e.field);
  }
  if (tokens.addBos && spec.contextLength < 2) throw new ImportError('must be at least 2 when a BOS token is added (it takes one position)', 'config.json', 'max_position_embeddings');
  return { text, tokens };
}

/** The special token a post-processor puts first, false when it puts none, null when there is none (add_bos_token decides). */
function templateBos(post: unknown): string | false | null {
  if (post === null || post === undefined) return null;
  if (typeof post !== 'object') return false;
  const p = post as { type?: unknown; processors?: unknown; single?: unknown };
  if (p.type === 'Sequence' && Array.isArray(p.processors)) {
    for (const q of p.processors) {
      const t = templateBos(q);
      if (t) return t;
    }
    return false;
  }
  if (p.type !== 'TemplateProcessing' || !Array.isArray(p.single)) return false;
  const id = (p.single[0] as { SpecialToken?: { id?: unknown } } | undefined)?.SpecialToken?.id;
  return typeof id === 'string' ? id : false;
}

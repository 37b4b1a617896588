// tokenizer.json is copied as it is; tokenizer_config.json says whether Hugging Face puts a BOS token before the text
// (add_bos_token, as LlamaTokenizer does for Mixtral) and which strings are BOS and EOS.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImportError } from './errors';

export interface TokenInfo {
  bos?: string;
  eos?: string;
  addBos: boolean;
}

const tokenText = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined;

export function readTokenizerConfig(dir: string): TokenInfo {
  if (!existsSync(join(dir, 'tokenizer.json'))) throw new ImportError('file is missing (the importer needs the fast tokenizer file)', 'tokenizer.json');
  const file = join(dir, 'tokenizer_config.json');
  if (!existsSync(file)) return { addBos: false };
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ImportError(`not valid JSON (${(e as Error).message})`, 'tokenizer_config.json');
  }
  const bos = tokenText(c.bos_token);
  const addBos = c.add_bos_token === true && bos !== undefined;
  return { bos, eos: tokenText(c.eos_token), addBos };
}

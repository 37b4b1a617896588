// The importer's reader for a checkpoint's files: confinedFiles.ts (shared with the server) with ImportError. Every
// input — config.json, tokenizer files, the shard index, each shard — resolves to a regular file inside the
// checkpoint folder (or a blob of its Hugging Face cache repository), opened non-blocking, within its kind's cap.
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { openConfined, readConfinedText, type ConfinedFile, type ConfinedKind, type Reader } from '../model/confinedFiles';
import { ImportError } from './errors';

export const checkpointReader: Reader = { error: (message, file, field) => new ImportError(message, file, field), folder: 'checkpoint folder' };

export const readInputText = (dir: string, name: string, kind: ConfinedKind, field?: string): Promise<string> => readConfinedText(dir, name, kind, checkpointReader, field);

export const openInput = (dir: string, name: string, kind: ConfinedKind, field?: string): Promise<ConfinedFile> => openConfined(dir, name, kind, checkpointReader, field);

/** Whether `name` exists in `dir` at all (a link counts, even a dangling one: reading it then says what is wrong). */
export async function hasEntry(dir: string, name: string): Promise<boolean> {
  return lstat(join(dir, name)).then(() => true, () => false);
}

// The texts `--corpus-text NAME`, `--eval-text NAME` and `--contrast-text NAME` name: one JSON document on stdin
// (common/pruneProtocol.ts InlineTexts), which is how the editor hands over an untitled or unsaved document without
// writing its text to disk. Every problem is a PruneUsageError (exit 2) that names the field, never the text.
import { INLINE_TEXTS_FORMAT } from '../../common/pruneProtocol';
import { PruneUsageError } from './pruneArgs';

/** More than this on stdin is refused (the whole document is held in memory before it is parsed). */
export const STDIN_LIMIT = 256 * 1024 * 1024;

/** name → text of an InlineTexts document. */
export function parseInlineTexts(json: string): Map<string, string> {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new PruneUsageError(`stdin: not JSON (the --…-text options read {"format":"${INLINE_TEXTS_FORMAT}","texts":[{"name","text"}…]} from stdin)`);
  }
  const d = doc as { format?: unknown; texts?: unknown };
  if (typeof doc !== 'object' || doc === null || d.format !== INLINE_TEXTS_FORMAT) throw new PruneUsageError(`stdin: "format" must be "${INLINE_TEXTS_FORMAT}"`);
  if (!Array.isArray(d.texts)) throw new PruneUsageError('stdin: "texts" must be an array of { name, text }');
  const texts = new Map<string, string>();
  d.texts.forEach((t: { name?: unknown; text?: unknown } | null, i) => {
    if (typeof t?.name !== 'string' || !t.name) throw new PruneUsageError(`stdin: texts[${i}].name must be a non-empty string`);
    if (typeof t.text !== 'string') throw new PruneUsageError(`stdin: texts[${i}].text must be a string`);
    if (texts.has(t.name)) throw new PruneUsageError(`stdin: two texts are named ${t.name}`);
    texts.set(t.name, t.text);
  });
  return texts;
}

/** Reads stdin to its end (at most STDIN_LIMIT bytes) and parses it. */
export async function readStdinTexts(stdin: NodeJS.ReadableStream = process.stdin): Promise<Map<string, string>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > STDIN_LIMIT) throw new PruneUsageError(`stdin: more than ${STDIN_LIMIT / 1024 / 1024} MiB of texts`);
    chunks.push(b);
  }
  return parseInlineTexts(Buffer.concat(chunks).toString('utf8'));
}

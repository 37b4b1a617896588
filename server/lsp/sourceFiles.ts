// Files a client names by a file: uri for analysis (moeLens/contrastive sets, moeLens/stats): read only when they are
// regular files of bounded size (not /dev/zero, not a FIFO), and an error never quotes their content.
import { fileURLToPath } from 'node:url';
import { readCappedText } from '../model/modelFiles';
import { ParamsError } from './errors';

/** A file: uri given to moeLens/contrastive or moeLens/stats is read only up to this size. */
export const MAX_SOURCE_FILE_BYTES = 8 * 2 ** 20;

/** The text of a file: uri, or a ParamsError that starts with `where` and says why it cannot be used. */
export async function readSourceFile(uri: string, where: string): Promise<string> {
  try {
    return await readCappedText(fileURLToPath(uri), MAX_SOURCE_FILE_BYTES, uri);
  } catch (e) {
    throw new ParamsError(`${where}: cannot use ${(e as Error).message}`);
  }
}

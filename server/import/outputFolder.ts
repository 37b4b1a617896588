// OUT_DIR is checked before any conversion starts, so a bad one is refused in a second, not after the weights: it must
// be absent or an empty real folder (not a symbolic link, dangling or not: the model would land wherever the link
// points), its nearest existing ancestor must be a folder (not a file), and it must not lie inside the checkpoint
// folder (the input is never modified). The temporary folder beside it is then created at once, which proves the
// parent writable.
import { lstat, mkdir, readdir, realpath, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isInside } from '../model/confinedFiles';
import { ImportError } from './errors';

const code = (e: unknown) => String((e as NodeJS.ErrnoException)?.code ?? 'error');

export async function checkOutputFolder(out: string, label: string, checkpoint: string): Promise<void> {
  const st = await lstat(out).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined; // ENOTDIR: a parent is a file, named below
    throw new ImportError(`cannot be inspected (${code(e)})`, label);
  });
  if (st?.isSymbolicLink()) throw new ImportError('is a symbolic link: choose a new folder (the model is written exactly where OUT_DIR says)', label);
  if (st && (!st.isDirectory() || (await readdir(out)).length > 0)) throw new ImportError('already exists and is not an empty folder: choose a new OUT_DIR', label);
  let ancestor = dirname(out);
  for (;;) {
    const a = await stat(ancestor).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined; // ENOTDIR: a file further up, found next
      throw new ImportError(`its parent ${ancestor} cannot be inspected (${code(e)})`, label);
    });
    if (a && !a.isDirectory()) throw new ImportError(`its parent ${ancestor} is a file, not a folder`, label);
    if (a) break;
    if (dirname(ancestor) === ancestor) break;
    ancestor = dirname(ancestor);
  }
  const realAncestor = await realpath(ancestor);
  const realSource = await realpath(checkpoint);
  if (realAncestor === realSource || isInside(realSource, realAncestor)) throw new ImportError('is inside the checkpoint folder: choose a folder outside it (the input is never modified)', label);
}

/** Creates the temporary folder an import writes into; a failure is an ImportError naming OUT_DIR. */
export async function makeTemporaryFolder(tmp: string, label: string): Promise<void> {
  try {
    await mkdir(tmp, { recursive: true });
  } catch (e) {
    throw new ImportError(`cannot create the temporary folder beside it (${code(e)})`, label);
  }
}

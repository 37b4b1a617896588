// The temporary folder of an import (`.OUT.importing-PID-…`, beside OUT_DIR) is removed when the import fails or is
// cancelled. A process that is killed (SIGKILL, SIGTERM: the extension's Cancel, a closed terminal) cannot remove it,
// and while the weights are converted the event loop is busy, so even a signal listener would run too late. The next
// import into the same parent folder removes such leftovers: those whose process no longer exists.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const temporaryPrefix = (outName: string) => `.${outName}.importing-`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Removes `.OUT.importing-PID-*` folders in parent whose PID is not a running process; returns their names. */
export function removeStaleImports(parent: string, outName: string): string[] {
  if (!existsSync(parent)) return [];
  const prefix = temporaryPrefix(outName);
  const removed: string[] = [];
  for (const f of readdirSync(parent)) {
    if (!f.startsWith(prefix)) continue;
    const pid = Number(f.slice(prefix.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    rmSync(join(parent, f), { recursive: true, force: true });
    removed.push(f);
  }
  return removed;
}

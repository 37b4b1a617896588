// Runs `moe-lens import` (dist/cli.js) in a child process for the extension: the conversion reads and writes gigabytes
// and is synchronous while it converts the weights, so it must not run in the extension host. Progress comes back as
// JSON lines on the child's stdout (`--progress json`, common/importEvents.ts): no IPC channel is needed, and the same
// stream serves scripts. The child is run by extension/cliProcess.ts. No vscode import:
// test/model/importProcess.test.ts runs this against the real CLI.
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseImportEvent, type ImportDoneEvent, type ImportErrorEvent, type ImportProgressEvent } from '../../common/importEvents';
import { howItEnded, runCli } from '../cliProcess';
import { removeStaleStaging, STAGING_PREFIX } from './modelStorage';
import { uniqueName } from './modelName';

export interface ImportJob {
  /** dist/cli.js */
  cli: string;
  hfDir: string;
  /** <globalStorage>/models: the model lands in a new folder here */
  modelsDir: string;
  /** the folder (made unique among modelsDir's) and moe.json's name */
  name: string;
  dtype?: 'fp32' | 'fp16';
  /** --quant int8|int4 (block-wise; routers stay float32) */
  quant?: 'int8' | 'int4';
  onProgress?(p: ImportProgressEvent): void;
  /** the importer's messages for people (stderr), line by line */
  onLog?(line: string): void;
  signal?: AbortSignal;
}

export type ImportOutcome =
  | { kind: 'done'; dir: string; folder: string; result: ImportDoneEvent }
  | { kind: 'failed'; message: string; file?: string; field?: string }
  | { kind: 'cancelled' };

/**
 * Imports job.hfDir into job.modelsDir/<unique name>. Whatever happens (a bad checkpoint, a crash, Cancel: the child
 * is killed with SIGTERM), the staging folder is removed and modelsDir holds either the complete model or nothing new.
 */
export async function importIntoStorage(job: ImportJob): Promise<ImportOutcome> {
  mkdirSync(job.modelsDir, { recursive: true });
  removeStaleStaging(job.modelsDir);
  const staging = mkdtempSync(join(job.modelsDir, `${STAGING_PREFIX}${process.pid}-`));
  try {
    if (job.signal?.aborted) return { kind: 'cancelled' };
    const out = join(staging, 'model');
    const args = ['import', job.hfDir, out, '--progress', 'json', '--name', job.name, ...(job.dtype ? ['--dtype', job.dtype] : []), ...(job.quant ? ['--quant', job.quant] : [])];
    let done: ImportDoneEvent | undefined;
    let error: ImportErrorEvent | undefined;
    let cancelledByChild = false;
    const exit = await runCli({
      cli: job.cli,
      args,
      signal: job.signal,
      onLog: job.onLog,
      onLine: (line) => {
        const e = parseImportEvent(line);
        if (e?.event === 'progress') job.onProgress?.(e);
        else if (e?.event === 'done') done = e;
        else if (e?.event === 'error') error = e;
        else if (e?.event === 'cancelled') cancelledByChild = true;
        return e !== undefined;
      },
    });
    if (exit.aborted || cancelledByChild) return { kind: 'cancelled' };
    if (exit.spawnError) return { kind: 'failed', message: `could not start the importer (${process.execPath} ${job.cli}): ${exit.spawnError.message}` };
    if (exit.code === 0 && done) {
      const folder = uniqueName(job.name, readdirSync(job.modelsDir));
      const dir = join(job.modelsDir, folder);
      renameSync(out, dir);
      return { kind: 'done', dir, folder, result: { ...done, outDir: dir } };
    }
    if (error) return { kind: 'failed', message: error.message, file: error.file, field: error.field };
    return { kind: 'failed', message: `the importer ${howItEnded(exit, 'printed no result')}` };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

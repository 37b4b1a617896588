// Runs `moe-lens importance | prune | offload … --progress json` (dist/cli.js) in a child process for the extension,
// as importProcess.ts runs the importer: profiling and the curve's many held-out evaluations are seconds to minutes of
// onnxruntime work that must not run in the extension host. Progress and the result come back as JSON lines on the
// child's stdout (common/pruneEvents.ts). Cancel kills the child (SIGTERM; the CLI removes a half-written export).
// No vscode import: test/model/pruneProcess.test.ts runs this against the real CLI.
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parsePruneEvent, type PruneDoneEvent, type PruneProgressEvent } from '../../common/pruneEvents';
import type { PruneResult } from '../../common/pruneProtocol';
import { howItEnded, runCli } from '../cliProcess';
import { uniqueName } from '../models/modelName';
import { removeStaleStaging, STAGING_PREFIX } from '../models/modelStorage';
import { pruneArgs, type PruneRequest } from './pruneCliArgs';

export interface CliJob {
  /** dist/cli.js */
  cli: string;
  /** the command line after the script (pruneCliArgs.ts), with --progress json */
  args: readonly string[];
  /** the inline texts it names, for its stdin (pruneCliArgs.ts CliCall) */
  stdin?: string;
  onProgress?(p: PruneProgressEvent): void;
  /** the CLI's messages for people (stderr), line by line */
  onLog?(line: string): void;
  signal?: AbortSignal;
}

export type CliOutcome = { kind: 'done'; done: PruneDoneEvent } | { kind: 'failed'; message: string } | { kind: 'cancelled' };

export async function runPruneCli(job: CliJob): Promise<CliOutcome> {
  if (job.signal?.aborted) return { kind: 'cancelled' };
  let done: PruneDoneEvent | undefined;
  let error: string | undefined;
  const exit = await runCli({
    ...job,
    onLine: (line) => {
      const e = parsePruneEvent(line);
      if (e?.event === 'progress') job.onProgress?.(e);
      else if (e?.event === 'done') done = e;
      else if (e?.event === 'error') error = e.message;
      return e !== undefined;
    },
  });
  if (exit.aborted) return { kind: 'cancelled' };
  if (exit.spawnError) return { kind: 'failed', message: `could not start moe-lens (${process.execPath} ${job.cli}): ${exit.spawnError.message}` };
  if (exit.code === 0 && done) return { kind: 'done', done };
  if (error) return { kind: 'failed', message: error };
  return { kind: 'failed', message: `moe-lens ${job.args[0]} ${howItEnded(exit, 'printed no valid result')}` };
}

export interface ExportJob extends Omit<CliJob, 'args'> {
  request: PruneRequest;
  /** <globalStorage>/models: the pruned model lands in a new folder here */
  modelsDir: string;
  /** the folder's name (made unique among modelsDir's) */
  name: string;
}

export type ExportOutcome = { kind: 'done'; dir: string; folder: string; result: PruneResult } | { kind: 'failed'; message: string } | { kind: 'cancelled' };

/**
 * `prune … --out` into modelsDir/<unique name>, through a staging folder as import does: whatever happens (bad input,
 * a crash, Cancel), the staging folder is removed and modelsDir holds either the complete model or nothing new.
 */
export async function exportPrunedIntoStorage(job: ExportJob): Promise<ExportOutcome> {
  mkdirSync(job.modelsDir, { recursive: true });
  removeStaleStaging(job.modelsDir);
  const staging = mkdtempSync(join(job.modelsDir, `${STAGING_PREFIX}${process.pid}-`));
  try {
    const out = join(staging, 'model');
    const r = await runPruneCli({ ...job, ...pruneArgs(job.request, out) });
    if (r.kind !== 'done') return r;
    if (r.done.command !== 'prune' || r.done.result.out === null) return { kind: 'failed', message: 'moe-lens prune --out reported no exported folder' };
    const folder = uniqueName(job.name, readdirSync(job.modelsDir));
    const dir = join(job.modelsDir, folder);
    renameSync(out, dir);
    return { kind: 'done', dir, folder, result: { ...r.done.result, out: dir } };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

// Runs one `moe-lens` command (dist/cli.js) in a child process for the extension, as the importer and the pruning
// commands need: their work is seconds to minutes of synchronous conversion or onnxruntime passes that must not run in
// the extension host. The child runs on the extension host's own runtime (process.execPath with ELECTRON_RUN_AS_NODE,
// as vscode-languageclient starts the server). Its stdout is JSON lines (`--progress json`) handed to the caller line by
// line; its stderr is the messages for people, logged, with the last lines kept for a failure's message. Abort kills
// the child with SIGTERM (the CLI removes what it half wrote). No vscode import: the model tests run it for real.
import { spawn } from 'node:child_process';
import { LineSplitter } from '../common/importEvents';

export interface CliRun {
  /** dist/cli.js */
  cli: string;
  /** the command line after the script */
  args: readonly string[];
  /** one line of stdout: true when it was an event of the command's stream, false to log it as text */
  onLine(line: string): boolean;
  onLog?(line: string): void;
  signal?: AbortSignal;
  /** written to the child's stdin, which is then closed (the texts of unsaved documents: never a file) */
  stdin?: string;
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: Error;
  /** job.signal aborted while it ran */
  aborted: boolean;
  /** the last lines of stderr, for a failure's message */
  stderrTail: string[];
}

const TAIL = 8;

export async function runCli(run: CliRun): Promise<CliExit> {
  const child = spawn(process.execPath, [run.cli, ...run.args], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: [run.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], windowsHide: true });
  if (run.stdin !== undefined) {
    child.stdin!.on('error', () => undefined); // a child that exits before reading it all (bad arguments) closes the pipe: its exit says why
    child.stdin!.end(run.stdin, 'utf8');
  }
  const kill = () => child.kill('SIGTERM');
  run.signal?.addEventListener('abort', kill);
  const stderrTail: string[] = [];
  const stdout = new LineSplitter();
  const stderr = new LineSplitter();
  const onStdout = (lines: string[]) => {
    for (const line of lines) if (!run.onLine(line) && line.trim()) run.onLog?.(line); // a malformed event is worth seeing in the log
  };
  const onStderr = (lines: string[]) => {
    for (const line of lines) {
      run.onLog?.(line);
      stderrTail.push(line);
      if (stderrTail.length > TAIL) stderrTail.shift();
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (c: string) => onStdout(stdout.push(c)));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => onStderr(stderr.push(c)));
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
    child.once('error', (spawnError) => resolve({ code: null, signal: null, spawnError }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  run.signal?.removeEventListener('abort', kill);
  onStdout(stdout.end());
  onStderr(stderr.end());
  return { ...exit, aborted: run.signal?.aborted === true, stderrTail };
}

/** "was killed (SIGKILL)" / "exited with code 3" / `otherwise` for exit 0: the end of a failure's message. */
export function howItEnded(exit: CliExit, otherwise: string): string {
  const how = exit.signal ? `was killed (${exit.signal})` : exit.code === 0 ? otherwise : `exited with code ${exit.code}`;
  return `${how}${exit.stderrTail.length ? `: ${exit.stderrTail.join('\n')}` : ''}`;
}

// Hostile Hugging Face checkpoints for the importer (issue 22), built at test time from a valid fixture
// (test/fixtures/hf/olmoe: one model.safetensors of 4 MB) — nothing large is committed. Each helper edits one thing:
// a header, the config, a file turned into a FIFO, a link, a folder. runImport spawns the real CLI with a time limit
// and a heap limit, so a hang or a runaway allocation fails the test instead of stalling it.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, constants, copyFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir, golden } from './hfFixtures';
import { distDir, repoRoot } from './paths';

export const BASE_ARCH = 'olmoe';
export const SHARD = 'model.safetensors';

/**
 * A fresh folder holding `<root>/hf` (a copy of the fixture with its tokenizer.json) and room for outputs. `arch`: one
 * of test/fixtures/hf (default OLMoE, one model.safetensors); the families with a config parser of their own
 * (granitemoe, gpt_oss, phimoe) are sharded.
 */
export function freshCheckpoint(prefix = 'moe-lens-hostile-ckpt-', arch: string = BASE_ARCH): { root: string; hf: string } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const hf = join(root, 'hf');
  mkdirSync(hf);
  for (const f of readdirSync(fixtureDir(arch))) if (f !== 'golden.json') copyFileSync(join(fixtureDir(arch), f), join(hf, f));
  copyFileSync(join(repoRoot, golden(arch).tokenizer.npm_folder, 'tokenizer.json'), join(hf, 'tokenizer.json'));
  return { root, hf };
}

export interface Safetensors {
  header: Record<string, any>;
  data: Buffer;
}

export function readSafetensors(path: string): Safetensors {
  const b = readFileSync(path);
  const n = Number(b.readBigUInt64LE(0));
  return { header: JSON.parse(b.subarray(8, 8 + n).toString('utf8')), data: b.subarray(8 + n) };
}

/** Writes a safetensors file from a header (an object, or raw JSON text) and the data bytes. */
export function writeSafetensors(path: string, header: Record<string, unknown> | string, data: Buffer): void {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, json, data]));
}

/** Edits the header of `hf`'s model.safetensors in place (the data bytes stay). */
export function editHeader(hf: string, edit: (h: Record<string, any>) => void): void {
  const st = readSafetensors(join(hf, SHARD));
  edit(st.header);
  writeSafetensors(join(hf, SHARD), st.header, st.data);
}

export function editJson(file: string, edit: (c: Record<string, any>) => void): void {
  const c = JSON.parse(readFileSync(file, 'utf8'));
  edit(c);
  writeFileSync(file, JSON.stringify(c, null, 1));
}

/** The tensor entries of a header (without __metadata__), in file order. */
export const tensorNames = (h: Record<string, any>): string[] => Object.keys(h).filter((k) => k !== '__metadata__');

/** Sets element 0 of `tensor` (a BF16 tensor) to the BF16 bits `bits` (0x7fc0 NaN, 0x7f80 +Inf). */
export function poisonTensor(hf: string, tensor: string, bits: number): void {
  const st = readSafetensors(join(hf, SHARD));
  const data = Buffer.from(st.data);
  data.writeUInt16LE(bits, st.header[tensor].data_offsets[0]);
  writeSafetensors(join(hf, SHARD), st.header, data);
}

/** A model.safetensors.index.json putting every tensor of model.safetensors in it (an index the importer then follows). */
export function writeIndex(hf: string, edit: (map: Record<string, string>) => void = () => undefined): void {
  const map: Record<string, string> = {};
  for (const t of tensorNames(readSafetensors(join(hf, SHARD)).header)) map[t] = SHARD;
  edit(map);
  writeFileSync(join(hf, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: map }));
}

/** `depth` nested arrays: the 100k-deep JSON that overflowed the stack of the error path. */
export const deepJson = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** A stack trace in the output (Node prints "    at fn (file:line:col)" lines for an uncaught error). */
export const hasStackTrace = (text: string): boolean => /\n\s+at .+:\d+:\d+\)?\n/.test(text) || /Error: .*\n\s+at /.test(text);

export interface ImportRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
  timedOut: boolean;
}

/**
 * `moe-lens import HF OUT` as a user runs it (dist/cli.js), under a time limit (a spawn timeout: the child is killed,
 * never waited on forever) and a V8 heap limit (a runaway allocation aborts the child instead of the machine).
 */
export function runImport(hf: string, out: string, opts: { timeoutMs?: number; heapMb?: number; args?: string[]; nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {}): ImportRun {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [`--max-old-space-size=${opts.heapMb ?? 512}`, ...(opts.nodeArgs ?? []), join(distDir, 'cli.js'), 'import', hf, out, ...(opts.args ?? [])], {
    encoding: 'utf8',
    env: opts.env ?? process.env,
    timeout: opts.timeoutMs ?? 60000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 2 ** 20,
  });
  return { status: r.status, signal: r.signal, stderr: r.stderr ?? '', stdout: r.stdout ?? '', timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL' };
}

/** Temporary import folders (`.OUT.importing-PID-*`) left in `parent`. */
export const leftovers = (parent: string): string[] => readdirSync(parent).filter((f) => f.includes('.importing-'));

/**
 * Releases anything blocked on the FIFO at `path` and removes it: opening it read-write and non-blocking never blocks
 * and gives a blocked reader a writer (then EOF when it closes). Safe when nothing is blocked, or it is gone.
 */
export function releaseFifo(path: string): void {
  try {
    const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    closeSync(fd);
  } catch {
    // not there any more
  }
  rmSync(path, { force: true });
}

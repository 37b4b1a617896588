// `moe-lens export FILE|GLOB… --out routing.parquet [--format parquet|safetensors] [--model DIR] [--max-tokens N]
// [--provider P]`: the routing of each file (analysed alone, unsteered) as one row per (document, token, layer) in a
// Parquet file, or the same data as arrays in a safetensors file (common/routingExport.ts). The file is written to a
// temporary name beside --out and renamed: never half-written.
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { DEFAULT_SETTINGS } from '../../common/defaults';
import type { ExecutionProviderSetting } from '../../common/protocol';
import { routingParquet, routingSafetensors, type ExportDocument } from '../../common/routingExport';
import { analyzeText } from '../analysis/analyzer';
import { ModelLoadError } from '../model/errors';
import type { ModelBackend } from '../model/backend';
import { embeddedModelDir } from '../model/embeddedModel';
import { ModelSession } from '../model/modelSession';
import { expandGlobs } from '../stats/expandGlobs';

export const EXPORT_USAGE = `usage: moe-lens export FILE|GLOB… --out OUT [--format parquet|safetensors] [--model DIR] [--max-tokens N] [--provider P]

  Routes each file alone and writes one row per (document, token, layer): document, token, token_id, token_text,
  start, end (UTF-16 offsets), layer, expert_1…expert_K and weight_1…weight_K (top-k in rank order), entropy (nats),
  surprisal (bits), steering ("" = unsteered). --format safetensors writes the same data as arrays (document,
  token_index, token_id, offsets [N,2], experts [N,L,K], weights [N,L,K], entropy [N,L], surprisal [N]).`;

const PROVIDERS: ExecutionProviderSetting[] = ['auto', 'cpu', 'cuda', 'webgpu'];

interface ExportArgs { files: string[]; out: string; format: 'parquet' | 'safetensors'; model: string; maxTokens: number; provider: ExecutionProviderSetting }

function parse(argv: string[]): ExportArgs | string {
  const a: ExportArgs = { files: [], out: '', format: 'parquet', model: embeddedModelDir(), maxTokens: DEFAULT_SETTINGS.maxTokens, provider: DEFAULT_SETTINGS.executionProvider };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    const next = () => (i + 1 < argv.length ? argv[++i] : undefined);
    if (v === '--out') a.out = next() ?? '';
    else if (v === '--format') a.format = next() as ExportArgs['format'];
    else if (v === '--model') a.model = next() ?? '';
    else if (v === '--max-tokens') a.maxTokens = Number(next());
    else if (v === '--provider') a.provider = next() as ExecutionProviderSetting;
    else if (v.startsWith('-')) return `unknown option ${v}`;
    else a.files.push(v);
  }
  if (!a.files.length) return 'export needs FILE|GLOB…';
  if (!a.out) return '--out is missing';
  if (a.format !== 'parquet' && a.format !== 'safetensors') return '--format must be parquet or safetensors';
  if (!Number.isInteger(a.maxTokens) || a.maxTokens <= 0) return '--max-tokens must be a positive integer';
  if (!PROVIDERS.includes(a.provider)) return `--provider must be one of ${PROVIDERS.join(', ')}`;
  return a;
}

/** Runs the command; returns the exit code (2 for unusable input, naming the file). */
export async function runExport(argv: string[], err: (s: string) => void, out: (s: string) => void): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(`${EXPORT_USAGE}\n`);
    return 0;
  }
  const a = parse(argv);
  if (typeof a === 'string') {
    err(`moe-lens: ${a}\n${EXPORT_USAGE}\n`);
    return 2;
  }
  const texts: { name: string; text: string }[] = [];
  for (const f of expandGlobs(a.files)) {
    const st = statSync(f, { throwIfNoEntry: false });
    if (!st?.isFile()) return err(`moe-lens: no such file: ${f}\n`), 2;
    const text = readFileSync(f, 'utf8');
    if (text.includes('\u0000')) return err(`moe-lens: ${f} is not a text file (it holds NUL bytes)\n`), 2;
    texts.push({ name: relative(process.cwd(), f) || f, text });
  }
  if (!statSync(dirname(a.out), { throwIfNoEntry: false })?.isDirectory()) return err(`moe-lens: --out ${a.out}: no such folder ${dirname(a.out)}\n`), 2;
  let session: ModelBackend;
  try {
    session = await ModelSession.load(a.model, a.provider);
  } catch (e) {
    if (!(e instanceof ModelLoadError)) throw e;
    return err(`moe-lens: cannot load the model in ${a.model}: ${e.message}\n`), 2;
  }
  try {
    const docs: ExportDocument[] = [];
    for (const t of texts) docs.push({ name: t.name, text: t.text, result: await analyzeText(session, t.text, 0, { maxTokens: a.maxTokens, rules: [] }), steering: '' });
    const bytes = a.format === 'parquet' ? routingParquet(docs) : routingSafetensors(docs);
    const tmp = join(dirname(a.out), `.${basename(a.out)}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, bytes);
      renameSync(tmp, a.out);
    } finally {
      rmSync(tmp, { force: true });
    }
    const rows = docs.reduce((s, d) => s + d.result.tokens * d.result.model.layers, 0);
    out(`${a.out}: ${docs.length} document${docs.length === 1 ? '' : 's'}, ${rows} rows (token × layer), ${bytes.length} bytes (${a.format})\n`);
    return 0;
  } finally {
    await session.dispose();
  }
}

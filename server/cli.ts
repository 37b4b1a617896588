// `moe-lens route FILE [--json] [--layer L] [--model DIR] [--max-tokens N] [--provider P]`: the routing of a file,
// as an ANSI heatmap in the terminal or as the moeLens/routing JSON. The same analysis as the language server.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionProviderSetting, RoutingResult } from '../common/protocol';
import { analyzeText } from './analysis/analyzer';
import { ModelLoadError } from './model/errors';
import { ModelSession } from './model/modelSession';
import { expertPalette256 } from './cli/palette';

const USAGE = `usage: moe-lens route FILE [--json] [--layer L] [--model DIR] [--max-tokens N] [--provider auto|cpu|cuda|webgpu]

  Runs the MoE model on FILE and shows, per token, the expert its router chose first at layer L
  (default 0) as a coloured background, then a legend. --json prints the moeLens/routing result.
  --model defaults to the embedded model (media/model).`;

interface Args { file: string; json: boolean; layer: number; model: string; maxTokens: number; provider: ExecutionProviderSetting }

function parseArgs(argv: string[]): Args {
  if (argv[0] !== 'route' || argv.includes('--help') || argv.includes('-h')) throw new UsageError(argv[0] === 'route' || argv.length === 0 || argv[0]?.startsWith('-') ? '' : `unknown command "${argv[0]}"`);
  const a: Args = { file: '', json: false, layer: 0, model: join(__dirname, '..', 'media', 'model'), maxTokens: 4096, provider: 'cpu' };
  for (let i = 1; i < argv.length; i++) {
    const v = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${v} needs a value`);
      return argv[++i];
    };
    if (v === '--json') a.json = true;
    else if (v === '--layer') a.layer = Number(next());
    else if (v === '--model') a.model = next();
    else if (v === '--max-tokens') a.maxTokens = Number(next());
    else if (v === '--provider') a.provider = next() as ExecutionProviderSetting;
    else if (v.startsWith('-')) throw new UsageError(`unknown option ${v}`);
    else if (!a.file) a.file = v;
    else throw new UsageError(`unexpected argument ${v}`);
  }
  if (!a.file) throw new UsageError('FILE is missing');
  if (!Number.isInteger(a.maxTokens) || a.maxTokens <= 0) throw new UsageError('--max-tokens must be a positive integer');
  if (!['auto', 'cpu', 'cuda', 'webgpu'].includes(a.provider)) throw new UsageError(`--provider must be auto, cpu, cuda or webgpu`);
  return a;
}

class UsageError extends Error {}

/** The text with each token's background = its top-1 expert at `layer`, then a legend with each expert's share. */
export function ansiHeatmap(text: string, r: RoutingResult, layer: number): string {
  const { layers: L, topK: K, experts: E } = r.model;
  const colours = expertPalette256(E);
  const counts = new Array<number>(E).fill(0);
  let out = '';
  for (let t = 0; t < r.tokens; t++) {
    const e = r.experts[(t * L + layer) * K];
    counts[e]++;
    const piece = text.slice(r.offsets[2 * t], r.offsets[2 * t + 1]);
    // Colour each line of the token separately so newlines don't paint the rest of the terminal row.
    out += piece.split('\n').map((s) => (s ? `\x1b[48;5;${colours[e].bg};38;5;${colours[e].fg}m${s}\x1b[0m` : '')).join('\n');
  }
  const legend = counts
    .map((c, e) => ({ c, e }))
    .map(({ c, e }) => `\x1b[48;5;${colours[e].bg};38;5;${colours[e].fg}m E${String(e).padStart(2)} \x1b[0m ${((100 * c) / Math.max(1, r.tokens)).toFixed(1).padStart(5)}%`);
  const rows: string[] = [];
  for (let i = 0; i < legend.length; i += 8) rows.push(legend.slice(i, i + 8).join('  '));
  return `${out}\n\n\x1b[1mtop-1 expert at layer ${layer}\x1b[0m (share of tokens)\n${rows.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      if (e.message) process.stderr.write(`moe-lens: ${e.message}\n`);
      process.stderr.write(`${USAGE}\n`);
      return e.message ? 2 : 0;
    }
    throw e;
  }
  if (!existsSync(args.file)) {
    process.stderr.write(`moe-lens: no such file: ${args.file}\n`);
    return 2;
  }
  let session: ModelSession;
  try {
    session = await ModelSession.load(args.model, args.provider);
  } catch (e) {
    process.stderr.write(`moe-lens: cannot load the model: ${(e as Error).message}\n`);
    return e instanceof ModelLoadError ? 2 : 1;
  }
  if (!Number.isInteger(args.layer) || args.layer < 0 || args.layer >= session.info.layers) {
    process.stderr.write(`moe-lens: --layer must be 0–${session.info.layers - 1}\n`);
    return 2;
  }
  const text = readFileSync(args.file, 'utf8');
  const r = await analyzeText(session, text, 0, { maxTokens: args.maxTokens, rules: [] });
  if (args.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    process.stdout.write(ansiHeatmap(text, r, args.layer));
    const notes = [r.windows > 1 ? `${r.windows} windows of ${r.model.contextLength}` : '', r.truncated ? `truncated at ${r.tokens} tokens` : ''].filter(Boolean);
    process.stdout.write(`${r.model.name} · ${r.model.executionProvider} · ${r.tokens} tokens · ${r.elapsedMs} ms${notes.length ? ` · ${notes.join(', ')}` : ''}\n`);
  }
  await session.dispose();
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    process.stderr.write(`moe-lens: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}

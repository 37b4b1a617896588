// `moe-lens route FILE [--json] [--layer L] [--model DIR] [--max-tokens N] [--provider P]`: the routing of a file,
// as an ANSI heatmap in the terminal or as the moeLens/routing JSON. The same analyzeText as the language server.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionProviderSetting } from '../common/protocol';
import { analyzeText } from './analysis/analyzer';
import { ansiHeatmap, summaryLine } from './cli/heatmap';
import { ModelLoadError } from './model/errors';
import type { ModelBackend } from './model/backend';
import { ModelSession } from './model/modelSession';

const USAGE = `usage: moe-lens route FILE [--json] [--layer L] [--model DIR] [--max-tokens N] [--provider auto|cpu|cuda|webgpu]

  Runs the Mixture-of-Experts model on FILE and shows each token with the expert its router ranked first at
  layer L (default 0) as a coloured background, then a legend with each expert's share of the tokens.

  --json          print the moeLens/routing result (the language server's shape) instead
  --layer L       the layer the heatmap shows (0-based)
  --model DIR     a model directory (moe.json, model.onnx, tokenizer.json); default: the embedded model
  --max-tokens N  analyse at most N tokens (default 4096)
  --provider P    onnxruntime execution provider (default auto: CUDA when installed, else CPU)

  Exit codes: 0 done, 1 unexpected failure, 2 bad arguments, missing file or unusable model.`;

const PROVIDERS: readonly ExecutionProviderSetting[] = ['auto', 'cpu', 'cuda', 'webgpu'];

interface Args {
  file: string;
  json: boolean;
  layer: number;
  model: string;
  maxTokens: number;
  provider: ExecutionProviderSetting;
}

/** A problem with the command line: printed with the usage, exit code 2 (or 0 for --help, which has no message). */
class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  if (argv.includes('--help') || argv.includes('-h')) throw new UsageError('');
  if (argv.length === 0) throw new UsageError('no command given');
  if (argv[0] !== 'route') throw new UsageError(`unknown command "${argv[0]}"`);
  // The embedded model sits beside the bundle: dist/cli.js -> media/model.
  const a: Args = { file: '', json: false, layer: 0, model: join(__dirname, '..', 'media', 'model'), maxTokens: 4096, provider: 'auto' };
  for (let i = 1; i < argv.length; i++) {
    const v = argv[i];
    const next = (): string => {
      if (i + 1 >= argv.length) throw new UsageError(`${v} needs a value`);
      return argv[++i];
    };
    if (v === '--json') a.json = true;
    else if (v === '--layer') a.layer = Number(next());
    else if (v === '--model') a.model = next();
    else if (v === '--max-tokens') a.maxTokens = Number(next());
    else if (v === '--provider') a.provider = next() as ExecutionProviderSetting;
    else if (v.startsWith('-') && v !== '-') throw new UsageError(`unknown option ${v}`);
    else if (!a.file) a.file = v;
    else throw new UsageError(`unexpected argument ${v}`);
  }
  if (!a.file) throw new UsageError('FILE is missing');
  if (!Number.isInteger(a.layer) || a.layer < 0) throw new UsageError('--layer must be a non-negative integer');
  if (!Number.isInteger(a.maxTokens) || a.maxTokens <= 0) throw new UsageError('--max-tokens must be a positive integer');
  if (!PROVIDERS.includes(a.provider)) throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}`);
  return a;
}

/** The file's text; "-" reads standard input. */
function readInput(file: string): string {
  if (file === '-') return readFileSync(0, 'utf8');
  return readFileSync(file, 'utf8');
}

async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) process.stderr.write(`moe-lens: ${e.message}\n`);
    (e.message ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return e.message ? 2 : 0;
  }
  if (args.file !== '-') {
    const st = statSync(args.file, { throwIfNoEntry: false });
    if (!st || !st.isFile()) {
      process.stderr.write(`moe-lens: no such file: ${args.file}\n`);
      return 2;
    }
  }
  let session: ModelBackend;
  try {
    session = await ModelSession.load(args.model, args.provider);
  } catch (e) {
    if (!(e instanceof ModelLoadError)) throw e;
    process.stderr.write(`moe-lens: cannot load the model in ${args.model}: ${e.message}\n`);
    return 2;
  }
  try {
    if (args.layer >= session.info.layers) {
      process.stderr.write(`moe-lens: --layer must be 0–${session.info.layers - 1}\n`);
      return 2;
    }
    const text = readInput(args.file);
    const r = await analyzeText(session, text, 0, { maxTokens: args.maxTokens, rules: [] });
    if (args.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else process.stdout.write(`${ansiHeatmap(text, r, args.layer)}${summaryLine(r)}\n`);
    return 0;
  } finally {
    await session.dispose();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`moe-lens: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

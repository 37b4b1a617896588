// `moe-lens route FILE [--json] [--layer L] [--model DIR] [--max-tokens N] [--provider P] [--trace TRACE.json]`: the
// routing of a file, as an ANSI heatmap in the terminal or as the moeLens/routing JSON. The same analyzeText as the
// language server; with --trace, the routing a serving engine recorded (server/trace). `moe-lens stats`: see
// server/cli/statsCommand.ts.
import { readFileSync, statSync } from 'node:fs';
import { DEFAULT_SETTINGS } from '../common/defaults';
import { EXECUTION_PROVIDERS, type ExecutionProviderSetting } from '../common/backends';
import type { RoutingResult } from '../common/protocol';
import { analyzeText } from './analysis/analyzer';
import { ansiHeatmap, summaryLine } from './cli/heatmap';
import { embeddedModelDir } from './model/embeddedModel';
import { runStats, STATS_USAGE, type StatsArgs } from './cli/statsCommand';
import { EXPORT_USAGE, runExport } from './cli/exportCommand';
import { TraceError } from './trace/engineTrace';
import { readTrace } from './trace/readTrace';
import { traceRouting } from './trace/traceRouting';
import { ModelLoadError } from './model/errors';
import type { ModelBackend } from './model/backend';
import { ModelSession } from './model/modelSession';
import { runImport } from './import/cli';
import { PRUNE_COMMANDS } from './cli/pruneArgs';
import { runPruneCommand } from './cli/pruneCommands';
import { runVerify } from './cli/verifyCommand';

const USAGE = `usage: moe-lens route FILE [--json] [--layer L] [--model DIR] [--max-tokens N] [--provider auto|cpu|cuda|webgpu] [--trace TRACE.json]

  Runs the Mixture-of-Experts model on FILE and shows each token with the expert its router ranked first at
  layer L (default 0) as a coloured background, then a legend with each expert's share of the tokens.

  --json          print the moeLens/routing result (the language server's shape) instead
  --layer L       the layer the heatmap shows (0-based)
  --model DIR     a model directory (moe.json, model.onnx, tokenizer.json); default: the embedded model
  --max-tokens N  analyse at most N tokens (default ${DEFAULT_SETTINGS.maxTokens})
  --provider P    onnxruntime execution provider (default auto: CUDA when installed, else CPU)
  --trace T       show the routing a serving engine recorded on FILE (a vLLM or SGLang response saved as JSON;
                  see the README, "Routing at scale") instead of running the model; its token ids must be the
                  model tokenizer's on FILE

${STATS_USAGE}

${EXPORT_USAGE}

  Exit codes: 0 done, 1 unexpected failure, 2 bad arguments, missing file or unusable model.

       moe-lens import HF_DIR OUT_DIR [--dtype fp32|fp16 | --quant int8|int4]   (moe-lens import --help)
       moe-lens verify DIR   hash every byte of a model directory against moe.json (moe-lens verify --help)
       moe-lens importance | prune | eval | offload …      (moe-lens prune --help)`;

const PROVIDERS: readonly ExecutionProviderSetting[] = EXECUTION_PROVIDERS;

interface Args {
  file: string;
  json: boolean;
  layer: number;
  model: string;
  maxTokens: number;
  provider: ExecutionProviderSetting;
  trace?: string;
  /** `moe-lens stats`: FILE|GLOB… */
  stats?: string[];
  profile: boolean;
}

/** A problem with the command line: printed with the usage, exit code 2 (or 0 for --help, which has no message). */
class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  if (argv.includes('--help') || argv.includes('-h')) throw new UsageError('');
  if (argv.length === 0) throw new UsageError('no command given');
  if (argv[0] !== 'route' && argv[0] !== 'stats') throw new UsageError(`unknown command "${argv[0]}"`);
  const stats = argv[0] === 'stats';
  const a: Args = { file: '', json: false, layer: 0, model: embeddedModelDir(), maxTokens: DEFAULT_SETTINGS.maxTokens, provider: DEFAULT_SETTINGS.executionProvider, profile: false, ...(stats ? { stats: [] } : {}) };
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
    else if (v === '--trace' && !stats) a.trace = next();
    else if (v === '--profile' && stats) a.profile = true;
    else if (v.startsWith('-') && v !== '-') throw new UsageError(`unknown option ${v}`);
    else if (a.stats) a.stats.push(v);
    else if (!a.file) a.file = v;
    else throw new UsageError(`unexpected argument ${v}`);
  }
  if (!a.file && !stats) throw new UsageError('FILE is missing');
  if (stats && !a.stats?.length && !a.profile) throw new UsageError('stats needs FILE|GLOB… or --profile');
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
  if (argv[0] === 'import') return runImport(argv.slice(1));
  if ((PRUNE_COMMANDS as readonly string[]).includes(argv[0])) return runPruneCommand(argv);
  if (argv[0] === 'verify') return runVerify(argv.slice(1), (m) => process.stdout.write(m), (m) => process.stderr.write(m));
  if (argv[0] === 'export') return runExport(argv.slice(1), (m) => process.stderr.write(m), (m) => process.stdout.write(m));
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) process.stderr.write(`moe-lens: ${e.message}\n`);
    (e.message ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return e.message ? 2 : 0;
  }
  if (args.stats) {
    const s: StatsArgs = { files: args.stats, json: args.json, profile: args.profile, model: args.model, maxTokens: args.maxTokens, provider: args.provider };
    return runStats(s, (m) => process.stderr.write(m), (m) => process.stdout.write(m));
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
    // --json prints exactly what moeLens/routing answers (common/protocol.ts)
    let r: RoutingResult;
    if (args.trace) {
      try {
        const trace = await readTrace(args.trace, session.info);
        r = traceRouting(trace, session.tokenizer.encode(text), session.info, { file: args.trace, version: 0 });
      } catch (e) {
        if (!(e instanceof TraceError)) throw e;
        process.stderr.write(`moe-lens: ${e.message.startsWith(args.trace) ? '' : `${args.trace}: `}${e.message}\n`);
        return 2;
      }
    } else r = await analyzeText(session, text, 0, { maxTokens: args.maxTokens, rules: [] });
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

// `moe-lens import HF_DIR OUT_DIR [--dtype fp32|fp16 | --quant int8|int4 [--block 32|64|128]] [--no-verify] [--name NAME] [--progress text|json]`; progress on
// stderr (or, with --progress json, as JSON lines on stdout: common/importEvents.ts); exit 0 done, 1 unexpected,
// 2 bad arguments or unusable input (the message names the file and the field or tensor).
import { basename, resolve } from 'node:path';
import type { ImportEvent } from '../../common/importEvents';
import { ModelLoadError } from '../model/errors';
import { ImportCancelled, ImportError } from './errors';
import { importCheckpoint, type ImportProgress } from './importCheckpoint';
import { SUPPORTED_ARCHITECTURES } from './config';
import { QUANT_BLOCKS, type QuantBits } from './graph/quantize';

export const IMPORT_USAGE = `usage: moe-lens import HF_DIR OUT_DIR [--dtype fp32|fp16 | --quant int8|int4 [--block 32|64|128]] [--no-verify] [--name NAME] [--progress text|json]

  Converts a Hugging Face MoE checkpoint (config.json, *.safetensors or a sharded model.safetensors.index.json,
  tokenizer.json, tokenizer_config.json) into a MoE Lens model directory: moe.json, model.onnx with its weights in
  model.onnx.data, tokenizer.json. Supported: ${SUPPORTED_ARCHITECTURES.join(', ')}.

  --dtype fp16   store the weights as float16 (half the disk; computed in float32)
  --quant int8|int4  block-wise symmetric quantisation of the experts (QMoE), projections and lm_head (MatMulNBits)
                 and embeddings (int8); every router stays float32. About 1/4 (int8) or 1/7 (int4) of the memory
  --block N      values per quantisation block along each input width: 32 (default), 64 or 128; a width above the
                 block must be a multiple of it
  --no-verify    skip loading the result as the server does (manifest, tokenizer, a one-token run)
  --name NAME    the model's name in moe.json (default: HF_DIR's folder name)
  --progress json  one JSON object per line on stdout (progress, then done, error or cancelled) for programs;
                 messages for people stay on stderr

  OUT_DIR must not exist or be empty; on any failure it is left as it was.
  Exit codes: 0 done, 1 unexpected failure, 2 bad arguments or unusable checkpoint.`;

const mb = (n: number) => (n / 1e6).toFixed(1);

export async function runImport(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${IMPORT_USAGE}\n`);
    return 0;
  }
  const positional: string[] = [];
  let dtype: 'fp32' | 'fp16' = 'fp32';
  let dtypeGiven = false;
  let bits: QuantBits | undefined;
  let block: number | undefined;
  let verify = true;
  let name: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--dtype') {
      const d = argv[++i];
      if (d !== 'fp32' && d !== 'fp16') return usage(`--dtype must be fp32 or fp16${d === undefined ? '' : `, got ${d}`}`);
      dtype = d;
      dtypeGiven = true;
    } else if (v === '--quant') {
      const q = argv[++i];
      if (q !== 'int8' && q !== 'int4') return usage(`--quant must be int8 or int4${q === undefined ? '' : `, got ${q}`}`);
      bits = q === 'int8' ? 8 : 4;
    } else if (v === '--block') {
      const b = argv[++i];
      if (!(QUANT_BLOCKS as readonly number[]).includes(Number(b)) || !/^\d+$/.test(b ?? '')) return usage(`--block must be one of ${QUANT_BLOCKS.join(', ')}${b === undefined ? '' : `, got ${b}`}`);
      block = Number(b);
    } else if (v === '--no-verify') verify = false;
    else if (v === '--name') {
      name = argv[++i];
      if (!name?.trim()) return usage('--name needs a non-empty value');
    } else if (v === '--progress') {
      const m = argv[++i];
      if (m !== 'text' && m !== 'json') return usage(`--progress must be text or json${m === undefined ? '' : `, got ${m}`}`);
      json = m === 'json';
    }
    else if (v.startsWith('-')) return usage(`unknown option ${v}`);
    else positional.push(v);
  }
  if (positional.length !== 2) return usage(positional.length < 2 ? 'HF_DIR and OUT_DIR are needed' : `unexpected argument ${positional[2]}`);
  if (block !== undefined && bits === undefined) return usage('--block needs --quant int8 or --quant int4');
  if (bits !== undefined && dtypeGiven) return usage('--quant and --dtype cannot be combined (a quantised model keeps its other weights in float32)');
  const quant = bits === undefined ? undefined : { bits, block: block ?? 32 };
  const [hfDir, outDir] = positional;
  const emit = (e: ImportEvent) => json && process.stdout.write(`${JSON.stringify(e)}\n`);
  let last = 0;
  const onProgress = (p: ImportProgress) => {
    const now = Date.now();
    if (p.phase === 'weights' && now - last < (json ? 100 : 500) && p.tensorsDone < p.tensorsTotal && p.tensorsDone > 1) return;
    last = now;
    if (json) return void emit({ event: 'progress', ...p });
    const what = p.phase === 'weights' ? `${mb(p.bytesDone)} / ${mb(p.bytesTotal)} MB, ${p.tensorsDone} / ${p.tensorsTotal} tensors` : p.phase;
    process.stderr.write(`moe-lens import: ${what}\n`);
  };
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  // A reader that went away (the extension host closed): stop at the next tensor and remove the temporary folder.
  if (json) process.stdout.on('error', onSigint);
  try {
    const onEstimate = (line: string) => process.stderr.write(`moe-lens import: ${line}\n`);
    const r = await importCheckpoint(hfDir, outDir, { dtype, quant, verify, name, onProgress, onEstimate, signal: abort.signal });
    const unusedTotal = r.unusedTotal ?? r.unused.length;
    if (unusedTotal) {
      const shown = r.unused.slice(0, 5).join(', ') + (unusedTotal > 5 ? `, … (${unusedTotal - 5} more)` : '');
      process.stderr.write(`moe-lens import: warning: ${unusedTotal} checkpoint tensor(s) not used by ${r.architecture}: ${shown}\n`);
    }
    process.stderr.write(`moe-lens import: ${r.architecture}, ${r.layers} layers × ${r.experts} experts (top-${r.topK}) → ${r.outDir}\n`);
    const { outDir: dir, architecture, layers, routerLayers, experts, topK, bytesRead, tensorsRead, unused } = r;
    emit({ event: 'done', outDir: dir, name: name ?? basename(resolve(hfDir)), architecture, layers, routerLayers, experts, topK, bytesRead, tensorsRead, unused, ...(r.unusedTotal !== undefined ? { unusedTotal: r.unusedTotal } : {}) });
    return 0;
  } catch (e) {
    if (e instanceof ImportError || e instanceof ModelLoadError) {
      process.stderr.write(`moe-lens import: ${e.message}\n`);
      emit({ event: 'error', message: e.message, file: e.file, ...(e.field !== undefined ? { field: e.field } : {}) });
      return 2;
    }
    if (e instanceof ImportCancelled) {
      process.stderr.write('moe-lens import: cancelled; nothing was written\n');
      emit({ event: 'cancelled' });
      return 1;
    }
    emit({ event: 'error', message: e instanceof Error ? e.message : String(e), unexpected: true });
    throw e;
  } finally {
    process.removeListener('SIGINT', onSigint);
    process.stdout.removeListener('error', onSigint);
  }
}

function usage(message: string): number {
  process.stderr.write(`moe-lens import: ${message}\n${IMPORT_USAGE}\n`);
  return 2;
}

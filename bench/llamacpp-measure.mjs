// The child process of bench/llamacpp.ts: one GGUF file in llama.cpp through node-llama-cpp, on the CPU. Plain ESM
// and not bundled: node-llama-cpp is not a project dependency; it is imported from the folder the bench installed it
// into (its absolute path comes as an argument).
//   node bench/llamacpp-measure.mjs NODE_LLAMA_CPP_DIR MODEL.gguf IDS.json THREADS
// Loads the model (mmap, no GPU layers), makes a context of tokens + 8 cells whose batch is the whole prompt (node-
// llama-cpp sets llama.cpp's n_ubatch = n_batch, so the prompt is one llama_decode of one ubatch), warms up on the
// first WARMUP ids, clears the sequence, then times evaluateWithoutGeneratingNewTokens over all the ids: prompt
// processing, nothing generated. Prints one JSON line; peak RSS is this process's VmHWM.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const WARMUP = 32;
const [moduleDir, modelPath, idsFile, threadsArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const ids = JSON.parse(readFileSync(idsFile, 'utf8')).ids;
const hwmMB = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024;

const { getLlama, LlamaLogLevel } = await import(pathToFileURL(join(moduleDir, 'dist', 'index.js')).href);
// build 'never': the prebuilt CPU binary that npm installed, or an error (no download, no compiler)
const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false, maxThreads: threads });
const t0 = performance.now();
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const loadMs = performance.now() - t0;
const context = await model.createContext({ contextSize: ids.length + 8, batchSize: ids.length, threads: { ideal: threads, min: threads }, sequences: 1 });
const sequence = context.getSequence();

await sequence.evaluateWithoutGeneratingNewTokens(ids.slice(0, WARMUP));
await sequence.clearHistory();
const t1 = performance.now();
const c1 = process.cpuUsage();
await sequence.evaluateWithoutGeneratingNewTokens(ids);
const promptMs = performance.now() - t1;
const c2 = process.cpuUsage(c1);
// CPU time of the whole process over the prompt (all threads, spinning included): how much of the cores it got
const promptCpuMs = (c2.user + c2.system) / 1000;
if (sequence.nextTokenIndex !== ids.length) throw new Error(`evaluated ${sequence.nextTokenIndex} of ${ids.length} tokens`);

const settings = {
  threads: context.currentThreads,
  contextSize: context.contextSize,
  batchSize: context.batchSize,
  flashAttention: context.flashAttention,
  mmap: model.useMmap,
  warmupTokens: WARMUP,
};
process.stdout.write(`${JSON.stringify({ tokens: ids.length, loadMs, promptMs, promptCpuMs, peakRssMB: hwmMB(), settings })}\n`);
await context.dispose();
await model.dispose();
await llama.dispose();

// `npm run bench:llamacpp -- HF IDS WORKDIR [PYTHON]`: bench/llamacpp.ts alone (bundled to out/bench/llamacpp.js by
// bench/llamacpp-run.mjs), for development; bench:quant calls llamaCppRows after its own rows.
//   HF: a Hugging Face OLMoE checkpoint (bench/olmoeCheckpoint.ts writes one); IDS: {"ids": [...]}; WORKDIR: where
//   the GGUF files are made and kept; PYTHON: an interpreter with torch, transformers, numpy and PyYAML (default python3).
import { cpus, loadavg } from 'node:os';
import { llamaCppMarkdown, llamaCppRows } from './llamacpp';

async function main(): Promise<void> {
  const [hf, ids, workDir, python = 'python3'] = process.argv.slice(2);
  if (!hf || !ids || !workDir) throw new Error('usage: node out/bench/llamacpp.js HF IDS.json WORKDIR [PYTHON]');
  const before = loadavg()[0];
  const rows = await llamaCppRows(hf, ids, workDir, python);
  console.log(`\n${cpus().length} cores, load average ${before.toFixed(2)} before and ${loadavg()[0].toFixed(2)} after; ${new Date().toISOString()}`);
  console.log(llamaCppMarkdown(rows));
  for (const r of rows) console.log(`${r.quant}: ${r.converter}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

// The embedded model's weights read back from its graph (media/model/model.onnx + model.onnx.data, built by
// server/import/embedded.ts) into a safetensors file under the Hugging Face names export.py's to_hf writes, for
// finetune.py to continue training from the shipped weights:
//     node tools/model/embedded-weights.mjs MODEL_DIR OUT.safetensors
// The builder keeps each checkpoint tensor's name; a layer's experts are stacked as <router>.fc1 [E, F, D] (w1) and
// <router>.fc2 [E, D, F] (w2), split back here one tensor per expert.
import { readFileSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const { onnx } = createRequire(import.meta.url)('onnx-proto');
const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  process.stderr.write('usage: node tools/model/embedded-weights.mjs MODEL_DIR OUT.safetensors\n');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(join(dir, 'moe.json'), 'utf8'));
const model = onnx.ModelProto.decode(readFileSync(join(dir, manifest.model ?? 'model.onnx')));
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const fd = manifest.modelData ? openSync(join(dir, manifest.modelData), 'r') : undefined;
const bytesOf = (t) => {
  if (!t.externalData?.length) return Buffer.from(t.rawData);
  const kv = Object.fromEntries(t.externalData.map((e) => [e.key, e.value]));
  const b = Buffer.alloc(Number(kv.length));
  readSync(fd, b, 0, b.length, Number(kv.offset ?? 0));
  return b;
};
const tensors = [];
for (const t of model.graph.initializer) {
  if (!t.name.startsWith('model.') || t.dataType !== FLOAT) continue;
  const dims = t.dims.map(Number);
  const data = bytesOf(t);
  const fused = /^(model\.layers\.\d+\.block_sparse_moe)\.gate\.weight\.(fc1|fc2)$/.exec(t.name);
  if (!fused) {
    tensors.push([t.name, dims, data]);
    continue;
  }
  const [E, ...rest] = dims;
  const per = data.length / E;
  for (let e = 0; e < E; e++) tensors.push([`${fused[1]}.experts.${e}.${fused[2] === 'fc1' ? 'w1' : 'w2'}.weight`, rest, data.subarray(e * per, (e + 1) * per)]);
}
if (fd !== undefined) closeSync(fd);
const header = {};
let at = 0;
for (const [name, shape, data] of tensors) {
  header[name] = { dtype: 'F32', shape, data_offsets: [at, at + data.length] };
  at += data.length;
}
let h = Buffer.from(JSON.stringify(header));
h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
const len = Buffer.alloc(8);
len.writeBigUInt64LE(BigInt(h.length));
writeFileSync(out, Buffer.concat([len, h, ...tensors.map((t) => t[2])]));
process.stdout.write(`${out}: ${tensors.length} tensors\n`);

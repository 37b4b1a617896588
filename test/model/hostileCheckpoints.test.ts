// Issue 22: every file of a downloaded checkpoint is hostile. Each case is a valid fixture (test/fixtures/hf/olmoe)
// with one thing made dangerous, imported by the real CLI under a time and a heap limit: exit 2, a message naming the
// file (and the field or tensor), no stack trace, no OUT_DIR and no `.OUT.importing-*` left. Before the fix each of
// these hung, ran out of memory, read outside the folder, exited 1 with a stack trace, or exited 0 with a model the
// server refuses or with the wrong weights (the comment on each group says which).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hubFolder, hubRoot } from '../support/hfFixtures';
import {
  deepJson, editHeader, editJson, freshCheckpoint, hasStackTrace, leftovers, poisonTensor, readSafetensors, releaseFifo, runImport, SHARD,
  tensorNames, writeIndex, writeSafetensors,
} from '../support/hostileCheckpoints';

interface Case {
  title: string;
  /** the fixture to start from (test/fixtures/hf): default OLMoE */
  arch?: string;
  /** makes the checkpoint hostile; returns OUT_DIR when the case is about it, and FIFOs to release */
  make: (hf: string, root: string) => { out?: string; fifos?: string[]; secret?: string } | void;
  /** the message must match (it names the file, and the field or tensor) */
  expect: RegExp;
}

const SECRET = 'BEGIN-PRIVATE-KEY-moe-lens-test-secret';
const fifo = (path: string) => {
  rmSync(path, { force: true });
  execFileSync('mkfifo', [path]);
  return path;
};
const replaceWithLink = (path: string, target: string) => {
  rmSync(path, { force: true });
  symlinkSync(target, path);
};
const outsideSecret = (root: string) => {
  const f = join(root, 'outside-secret.txt');
  writeFileSync(f, `${SECRET}\n`);
  return f;
};
const firstTensor = (hf: string) => tensorNames(readSafetensors(join(hf, SHARD)).header)[0];

const cases: Case[] = [
  // Hangs forever: a FIFO blocked the read (the tokenizer one only after every weight, leaving .OUT.importing-*).
  ...(['model.safetensors', 'config.json', 'tokenizer_config.json', 'tokenizer.json'] as const).map((f): Case => ({
    title: `${f} is a FIFO`,
    make: (hf) => ({ fifos: [fifo(join(hf, f))] }),
    expect: new RegExp(`${f.replace('.', '\\.')}: is not a regular file`),
  })),
  {
    title: 'model.safetensors.index.json is a FIFO',
    make: (hf) => ({ fifos: [fifo(join(hf, 'model.safetensors.index.json'))] }),
    expect: /model\.safetensors\.index\.json: is not a regular file/,
  },
  // Unbounded memory: /dev/zero grew without limit; 1e9 layers aborted Node; 1e6 layers took 1 GB; a 400k-entry
  // mlp_only_layers was quadratic; 1.6M tiny tensors took 1.5 GB and a 16 MB progress line.
  { title: 'config.json links to /dev/zero', make: (hf) => replaceWithLink(join(hf, 'config.json'), '/dev/zero'), expect: /config\.json: is outside the checkpoint folder/ },
  ...[1e9, 2 ** 32, 1e6].map((n): Case => ({
    title: `num_hidden_layers ${n}`,
    make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.num_hidden_layers = n)),
    expect: /config\.json \(num_hidden_layers\): \d+ is more than the 1024/,
  })),
  { title: 'num_experts 10^7', make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.num_experts = 1e7)), expect: /config\.json \(num_experts\): .*more than the 4096/ },
  // The families with a config parser of their own (gpt-oss, Granite-MoE, Phi-3.5-MoE) get the same bounds: 2^32
  // layers there threw "Invalid array length" (exit 1) and a negative eps imported.
  { title: 'gpt-oss: num_hidden_layers 2^32', arch: 'gpt_oss', make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.num_hidden_layers = 2 ** 32)), expect: /config\.json \(num_hidden_layers\): 4294967296 is more than the 1024/ },
  { title: 'gpt-oss: num_local_experts 10^7', arch: 'gpt_oss', make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.num_local_experts = 1e7)), expect: /config\.json \(num_local_experts\): 10000000 is more than the 4096/ },
  { title: 'Granite-MoE: num_hidden_layers 10^9', arch: 'granitemoe', make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.num_hidden_layers = 1e9)), expect: /config\.json \(num_hidden_layers\): 1000000000 is more than the 1024/ },
  { title: 'Phi-3.5-MoE: negative rms_norm_eps', arch: 'phimoe', make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.rms_norm_eps = -1e-5)), expect: /config\.json \(rms_norm_eps\): must be a small positive number/ },
  { title: 'Phi-3.5-MoE: max_position_embeddings 0', arch: 'phimoe', make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.max_position_embeddings = 0)), expect: /config\.json \(max_position_embeddings\): must be at least 1/ },
  { title: 'GLM-4.5: n_routed_experts 10^7', arch: 'glm4_moe', make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.n_routed_experts = 1e7)), expect: /config\.json \(n_routed_experts\): 10000000 is more than the 4096/ },
  { title: 'DeepSeek-V3: kv_lora_rank 2^31', arch: 'deepseek_v3', make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.kv_lora_rank = 2 ** 31)), expect: /config\.json \(kv_lora_rank\): 2147483648 is more than the 65536/ },
  { title: 'DeepSeek-V3: an FP8 checkpoint (the hub\'s own)', arch: 'deepseek_v3', make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.quantization_config = { activation_scheme: 'dynamic', fmt: 'e4m3', quant_method: 'fp8', weight_block_size: [128, 128] })), expect: /config\.json \(quantization_config\): quantised checkpoints \("fp8"\)/ },
  { title: 'DeepSeek-V2: kv_b_proj claiming 10^6 heads', arch: 'deepseek_v2', make: (hf) => editJson(join(hf, 'config.json'), (c) => ((c.num_attention_heads = 1e6), (c.num_key_value_heads = 1e6))), expect: /config\.json \(num_attention_heads\): 1000000 is more than the 1024/ },
  { title: 'GLM-4.5: first_k_dense_replace 2^32', arch: 'glm4_moe', make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.first_k_dense_replace = 2 ** 32)), expect: /config\.json \(first_k_dense_replace\): 4294967296 is more than the 1024/ },
  {
    title: 'a config claiming 1024 layers × 4096 experts with a 24 MB header: refused on the files\' sizes, before the header is read',
    make: (hf) => {
      editJson(join(hf, 'config.json'), (c) => ((c.num_hidden_layers = 1024), (c.num_experts = 4096)));
      const st = readSafetensors(join(hf, SHARD));
      const parts = [JSON.stringify(st.header).slice(0, -1)];
      for (let i = 0; i < 400_000; i++) parts.push(`,"t.${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
      writeSafetensors(join(hf, SHARD), `${parts.join('')}}`, st.data);
    },
    expect: /config\.json \(num_hidden_layers\): the sizes imply .* weights but the checkpoint holds only \d+ bytes of weight files/,
  },
  { title: 'vocab_size 2^40', make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.vocab_size = 2 ** 40)), expect: /config\.json \(vocab_size\)/ },
  {
    title: 'a config whose sizes the weights cannot hold (hidden_size 65536)',
    make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.hidden_size = 65536)),
    expect: /config\.json \(num_hidden_layers\): the sizes imply .* weights but the checkpoint holds only \d+ bytes/,
  },
  {
    title: 'a 400k-entry mlp_only_layers (Qwen3-MoE)',
    make: (hf) => editJson(join(hf, 'config.json'), (c) => {
      c.architectures = ['Qwen3MoeForCausalLM'];
      c.moe_intermediate_size = 16;
      c.mlp_only_layers = Array.from({ length: 400000 }, (_, i) => i % 3);
    }),
    expect: /config\.json \(mlp_only_layers\): lists 400000 layers but the model has 3/,
  },
  {
    title: '1.6M tiny tensors in the header',
    make: (hf) => {
      const st = readSafetensors(join(hf, SHARD));
      const parts = [JSON.stringify(st.header).slice(0, -1)];
      for (let i = 0; i < 1_600_000; i++) parts.push(`,"t.${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
      writeSafetensors(join(hf, SHARD), `${parts.join('')}}`, st.data);
    },
    expect: /model\.safetensors \(header\): safetensors header length \d+ is more than the \d+ bytes a header of this model's tensors needs/,
  },
  {
    title: 'a config claiming 1024 layers × 4096 experts, a sparse 1 GB shard and 300k empty tensors: refused before the header is parsed',
    make: (hf) => {
      editJson(join(hf, 'config.json'), (c) => ((c.num_hidden_layers = 1024), (c.num_experts = 4096)));
      const st = readSafetensors(join(hf, SHARD));
      const parts = [JSON.stringify(st.header).slice(0, -1)];
      for (let i = 0; i < 300_000; i++) parts.push(`,"t.${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
      writeSafetensors(join(hf, SHARD), `${parts.join('')}}`, st.data);
      truncateSync(join(hf, SHARD), 1e9); // sparse: as many bytes as the claimed 6.4e9 weights need at one bit each
    },
    expect: /model\.safetensors \(header\): the header lists 30\d{4} entries, more than the 262144 tensors this model can use/,
  },
  {
    title: 'a tensor with a 1M-element shape list: refused before the header is parsed',
    make: (hf) => {
      const st = readSafetensors(join(hf, SHARD));
      const t = firstTensor(hf);
      const text = JSON.stringify(st.header).replace(`"${t}":{"dtype":"${st.header[t].dtype}","shape":[`, (m) => `${m}${'1,'.repeat(1_000_000)}`);
      writeSafetensors(join(hf, SHARD), text, st.data);
    },
    expect: /model\.safetensors \(header\): the header holds about \d+ JSON values, more than the \d+ its \d+ entries can need/,
  },
  { title: 'a header length over the format limit (100 MB)', make: (hf) => {
    const b = readFileSync(join(hf, SHARD));
    b.writeBigUInt64LE(200_000_000n, 0);
    writeFileSync(join(hf, SHARD), b);
  }, expect: /model\.safetensors \(header\): .*over the format's limit of 100000000/ },
  // Reads outside the folder: tokenizer.json linked outside was copied in (exit 0); a shard linked outside was
  // imported; /proc/self/environ ended up in the message.
  {
    title: 'tokenizer.json links to a file outside the checkpoint',
    make: (hf, root) => {
      replaceWithLink(join(hf, 'tokenizer.json'), outsideSecret(root));
      return { secret: SECRET };
    },
    expect: /tokenizer\.json: is outside the checkpoint folder/,
  },
  {
    title: 'model.safetensors links to a copy outside the checkpoint',
    make: (hf, root) => {
      writeFileSync(join(root, 'elsewhere.safetensors'), readFileSync(join(hf, SHARD)));
      replaceWithLink(join(hf, SHARD), join(root, 'elsewhere.safetensors'));
    },
    expect: /model\.safetensors: is outside the checkpoint folder/,
  },
  { title: 'config.json links to /etc/passwd', make: (hf) => replaceWithLink(join(hf, 'config.json'), '/etc/passwd'), expect: /config\.json: is outside the checkpoint folder/ },
  {
    title: 'config.json links to /proc/self/environ',
    make: (hf) => {
      replaceWithLink(join(hf, 'config.json'), '/proc/self/environ');
      return { secret: process.env.PATH };
    },
    expect: /config\.json: is outside the checkpoint folder/,
  },
  {
    title: 'config.json holds environment-like text (not JSON): the message has a position, not the text',
    make: (hf) => {
      writeFileSync(join(hf, 'config.json'), `SECRET_TOKEN=${SECRET}\0PATH=/usr/bin\0`);
      return { secret: SECRET };
    },
    expect: /config\.json: not valid JSON/,
  },
  // Error messages quote names and values from the files only short and escaped.
  {
    title: 'Granite-MoE: a 100k-character hidden_act is quoted as a short excerpt',
    arch: 'granitemoe',
    make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.hidden_act = 'A'.repeat(100000))),
    expect: /config\.json \(hidden_act\): hidden_act "A{40}…" is not supported/,
  },
  {
    title: 'a 100k-character tensor name is cut in the message',
    make: (hf) => editHeader(hf, (h) => {
      const name = firstTensor(hf);
      h[`${'N'.repeat(100000)}`] = { ...h[name], dtype: 'F64' };
      delete h[name];
    }),
    expect: /model\.safetensors \(N{200}…\): unsupported dtype "F64"/,
  },
  {
    title: 'a tensor name with terminal escapes is shown escaped',
    make: (hf) => editHeader(hf, (h) => {
      const name = firstTensor(hf);
      h['\u001b[2J\u001b]0;pwned\u0007w'] = { ...h[name], dtype: 'F64' };
      delete h[name];
    }),
    expect: /model\.safetensors \(\\u001b\[2J\\u001b\]0;pwned\\u0007w\.dtype\): unsupported dtype "F64"/,
  },
  { title: 'the index names ".." as a shard', make: (hf) => writeIndex(hf, (m) => (m[Object.keys(m)[0]] = '..')), expect: /\.\. \(weight_map\): is outside the checkpoint folder/ },
  {
    title: 'a hub snapshot links into another repository\'s blobs',
    make: (hf, root) => {
      mkdirSync(join(root, 'models--other--repo', 'blobs'), { recursive: true });
      writeFileSync(join(root, 'models--other--repo', 'blobs', 'abc'), `${SECRET}\n`);
      replaceWithLink(join(hf, 'tokenizer.json'), join(root, 'models--other--repo', 'blobs', 'abc'));
      return { secret: SECRET };
    },
    expect: /tokenizer\.json: is outside the checkpoint folder/,
  },
  // Exit 1 with a stack trace: EISDIR, a 100k-deep JSON, 2^32 layers (above), the output-folder cases.
  { title: 'config.json is a folder', make: (hf) => (rmSync(join(hf, 'config.json')), mkdirSync(join(hf, 'config.json'))), expect: /config\.json: is a folder, not a file/ },
  { title: 'model.safetensors is a folder', make: (hf) => (rmSync(join(hf, SHARD)), mkdirSync(join(hf, SHARD))), expect: /model\.safetensors: is a folder, not a file/ },
  { title: 'a 100k-deep JSON config', make: (hf) => writeFileSync(join(hf, 'config.json'), deepJson(100000)), expect: /config\.json: JSON nests deeper than 64 levels/ },
  {
    title: 'a 100k-deep JSON in a header',
    make: (hf) => {
      const st = readSafetensors(join(hf, SHARD));
      writeSafetensors(join(hf, SHARD), `${JSON.stringify(st.header).slice(0, -1)},"__deep__":${deepJson(100000)}}`, st.data);
    },
    expect: /model\.safetensors \(header\): JSON nests deeper than 64 levels/,
  },
  {
    title: 'a 100k-deep value in config.json, quoted in a message',
    make: (hf) => writeFileSync(join(hf, 'config.json'), readFileSync(join(hf, 'config.json'), 'utf8').replace('"hidden_act": "silu"', `"hidden_act": ${deepJson(50)}`)),
    expect: /config\.json \(hidden_act\): hidden_act a list of 1 value is not supported/,
  },
  {
    title: 'OUT_DIR is a symlink to an empty folder elsewhere',
    make: (_hf, root) => {
      mkdirSync(join(root, 'elsewhere'));
      symlinkSync(join(root, 'elsewhere'), join(root, 'out-link'));
      return { out: join(root, 'out-link') };
    },
    expect: /out-link: is a symbolic link/,
  },
  { title: 'OUT_DIR is a dangling symlink', make: (_hf, root) => (symlinkSync(join(root, 'nowhere'), join(root, 'dangling')), { out: join(root, 'dangling') }), expect: /dangling: is a symbolic link/ },
  { title: 'OUT_DIR is a FIFO', make: (_hf, root) => ({ out: fifo(join(root, 'out-fifo')), fifos: [join(root, 'out-fifo')] }), expect: /out-fifo: already exists and is not an empty folder/ },
  { title: 'OUT_DIR\'s parent is a file', make: (_hf, root) => (writeFileSync(join(root, 'afile'), 'x'), { out: join(root, 'afile', 'out') }), expect: /afile[/\\]out: its parent .*afile is a file, not a folder/ },
  { title: 'OUT_DIR inside the checkpoint folder', make: (hf) => ({ out: join(hf, 'converted') }), expect: /converted: is inside the checkpoint folder/ },
  // Exit 0 for a model the server then refuses.
  { title: 'a NaN weight', make: (hf) => poisonTensor(hf, 'model.layers.1.mlp.experts.3.up_proj.weight', 0x7fc0), expect: /model\.safetensors \(model\.layers\.1\.mlp\.experts\.3\.up_proj\.weight\): tensor has a non-finite value \(NaN\)/ },
  { title: 'an Inf weight', make: (hf) => poisonTensor(hf, 'model.norm.weight', 0x7f80), expect: /model\.safetensors \(model\.norm\.weight\): tensor has a non-finite value \(Infinity\)/ },
  {
    title: 'gpt-oss: an MXFP4 scale of 255 (E8M0 NaN)',
    arch: 'gpt_oss',
    make: (hf) => {
      const shard = join(hf, 'model-00002-of-00002.safetensors');
      const st = readSafetensors(shard);
      const data = Buffer.from(st.data);
      data[st.header['model.layers.0.mlp.experts.down_proj_scales'].data_offsets[0] + 5] = 255;
      writeSafetensors(shard, st.header, data);
    },
    expect: /model-00002-of-00002\.safetensors \(model\.layers\.0\.mlp\.experts\.down_proj_scales\): MXFP4 block 5 decodes to a non-finite value \(NaN; its E8M0 scale code is 255\)/,
  },
  { title: 'negative rms_norm_eps', make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.rms_norm_eps = -1e-5)), expect: /config\.json \(rms_norm_eps\): must be a small positive number/ },
  { title: 'max_position_embeddings 0', make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.max_position_embeddings = 0)), expect: /config\.json \(max_position_embeddings\): must be at least 1/ },
  { title: 'max_position_embeddings 1 with a BOS token', make: (hf) => editJson(join(hf, 'config.json'), (c) => (c.max_position_embeddings = 1)), expect: /config\.json \(max_position_embeddings\): must be at least 2/ },
  {
    title: 'a vocabulary smaller than the tokenizer\'s',
    make: (hf) => {
      editJson(join(hf, 'config.json'), (c) => (c.vocab_size = 1000));
    },
    expect: /tokenizer\.json \(\/model\/vocab\): tokenizer has 32000 tokens but config\.json says vocab_size 1000/,
  },
  { title: 'tokenizer.json is not JSON', make: (hf) => writeFileSync(join(hf, 'tokenizer.json'), `not json ${SECRET}`), expect: /tokenizer\.json: not valid JSON/ },
  { title: 'an unknown BOS token', make: (hf) => editJson(join(hf, 'tokenizer_config.json'), (c) => (c.bos_token = '<no-such-token>')), expect: /tokenizer_config\.json \(bos_token\): add_bos_token is true but bos_token "<no-such-token>" is not a token/ },
  // Silently wrong weights: overlapping offsets and duplicate names imported with exit 0.
  {
    title: 'overlapping data_offsets (one expert reads another\'s bytes)',
    make: (hf) => editHeader(hf, (h) => {
      const a = h['model.layers.0.mlp.experts.0.up_proj.weight'];
      h['model.layers.0.mlp.experts.1.up_proj.weight'].data_offsets = [...a.data_offsets];
    }),
    expect: /model\.safetensors \(model\.layers\.0\.mlp\.experts\.[01]\.up_proj\.weight\.data_offsets\): data_offsets \[\d+, \d+\] (overlap the tensor before|leave a gap)/,
  },
  {
    title: 'a tensor name given twice in a header',
    make: (hf) => {
      const st = readSafetensors(join(hf, SHARD));
      const name = 'model.layers.0.mlp.experts.1.up_proj.weight';
      const dupe = `"${name}":${JSON.stringify(st.header['model.layers.0.mlp.experts.0.up_proj.weight'])}`;
      writeSafetensors(join(hf, SHARD), `${JSON.stringify(st.header).slice(0, -1)},${dupe}}`, st.data);
    },
    expect: /model\.safetensors \(header\): tensor "model\.layers\.0\.mlp\.experts\.1\.up_proj\.weight" is listed twice/,
  },
  {
    title: 'a gap between tensors',
    make: (hf) => {
      const st = readSafetensors(join(hf, SHARD));
      const last = tensorNames(st.header).sort((x, y) => st.header[y].data_offsets[0] - st.header[x].data_offsets[0])[0];
      st.header[last].data_offsets = st.header[last].data_offsets.map((o: number) => o + 2);
      writeSafetensors(join(hf, SHARD), st.header, Buffer.concat([st.data, Buffer.alloc(2)]));
    },
    expect: /model\.safetensors \(.*\.data_offsets\): data_offsets \[\d+, \d+\] leave a gap after byte \d+/,
  },
  // A wrong message: for a tensor in two shards the index's shard was said not to hold it.
  {
    title: 'a tensor in two shards',
    make: (hf) => {
      const st = readSafetensors(join(hf, SHARD));
      const t = firstTensor(hf);
      const [b, e] = st.header[t].data_offsets;
      writeSafetensors(join(hf, 'extra.safetensors'), { [t]: { ...st.header[t], data_offsets: [0, e - b] } }, st.data.subarray(b, e));
      writeIndex(hf, (m) => (m[t] = 'extra.safetensors'));
    },
    expect: /safetensors \(lm_head\.weight\): tensor is in both (model|extra)\.safetensors and (extra|model)\.safetensors/,
  },
  {
    title: 'the index puts a tensor in a shard that does not hold it',
    make: (hf) => {
      writeSafetensors(join(hf, 'empty.safetensors'), {}, Buffer.alloc(0));
      writeIndex(hf, (m) => (m[firstTensor(hf)] = 'empty.safetensors'));
    },
    expect: /model\.safetensors\.index\.json \(weight_map\.lm_head\.weight\): the index puts tensor "lm_head\.weight" in empty\.safetensors, but it is in model\.safetensors/,
  },
];

describe('hostile checkpoints: moe-lens import (issue 22)', function () {
  this.timeout(120000);

  for (const c of cases) {
    it(c.title, () => {
      const { root, hf } = freshCheckpoint(undefined, c.arch);
      let made: { out?: string; fifos?: string[]; secret?: string } | void = undefined;
      try {
        made = c.make(hf, root);
        const out = made?.out ?? join(root, 'out');
        const existed = existsSync(out) || lstatExists(out);
        const r = runImport(hf, out);
        assert.ok(!r.timedOut, `the import did not end within the limit\n${r.stderr}`);
        assert.equal(r.status, 2, r.stderr);
        assert.ok(!hasStackTrace(r.stderr), r.stderr);
        assert.match(r.stderr, c.expect);
        assert.ok(r.stderr.length < 2000, `a ${r.stderr.length}-character message`);
        if (made?.secret) assert.ok(!r.stderr.includes(made.secret), 'the message echoes file contents');
        assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(r.stderr), 'a control character reached the terminal');
        if (!existed) assert.ok(!lstatExists(out), 'OUT_DIR was created');
        if (lstatExists(dirname(out)) && lstatSync(dirname(out)).isDirectory()) assert.deepEqual(leftovers(dirname(out)), [], "a temporary folder was left behind");
        assert.deepEqual(leftovers(root), []);
      } finally {
        for (const f of made?.fifos ?? []) releaseFifo(f);
        rmSync(root, { recursive: true, force: true });
      }
    });
  }

  it('a checkpoint in the Hugging Face cache layout (snapshots/REV/* → ../../blobs/*) imports', () => {
    const snapshot = hubFolder('olmoe');
    const out = join(hubRoot(snapshot), 'out');
    try {
      assert.ok(lstatSync(join(snapshot, 'config.json')).isSymbolicLink());
      const r = runImport(snapshot, out);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(existsSync(join(out, 'moe.json')));
      // and a file of the snapshot that links out of the repository is still refused
      replaceWithLink(join(snapshot, 'tokenizer_config.json'), outsideSecret(hubRoot(snapshot)));
      const bad = runImport(snapshot, join(hubRoot(snapshot), 'out2'));
      assert.equal(bad.status, 2, bad.stderr);
      assert.match(bad.stderr, /tokenizer_config\.json: is outside the checkpoint folder/);
    } finally {
      rmSync(hubRoot(snapshot), { recursive: true, force: true });
    }
  });

  it('4000 unused tensors with 100-character names: it imports, and every progress and result line stays small', () => {
    const { root, hf } = freshCheckpoint();
    try {
      const st = readSafetensors(join(hf, SHARD));
      for (let i = 0; i < 4000; i++) st.header[`unused.${String(i).padStart(4, '0')}.${'x'.repeat(88)}`] = { dtype: 'BF16', shape: [0], data_offsets: [0, 0] };
      writeSafetensors(join(hf, SHARD), st.header, st.data);
      const r = runImport(hf, join(root, 'out'), { args: ['--progress', 'json'] });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /warning: 4000 checkpoint tensor\(s\) not used by OlmoeForCausalLM: .*, … \(3995 more\)/);
      for (const line of [...r.stdout.split('\n'), ...r.stderr.split('\n')]) assert.ok(line.length < 4096, `a ${line.length}-character line: ${line.slice(0, 200)}`);
      const done = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; unused?: string[]; unusedTotal?: number }).find((e) => e.event === 'done');
      assert.equal(done?.unusedTotal, 4000);
      assert.equal(done?.unused?.length, 20);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the unmodified fixture imports (the cases above differ from it by one thing)', () => {
    const { root, hf } = freshCheckpoint();
    try {
      const r = runImport(hf, join(root, 'out'));
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(join(root, 'out', 'tokenizer.json'), 'utf8'), readFileSync(join(hf, 'tokenizer.json'), 'utf8'));
      // the estimate is the first line, before the first weight is converted
      const lines = r.stderr.split('\n');
      assert.match(lines[0], /^moe-lens import: needs about [\d.]+ GB at fp32 \(analysing with it: about [\d.]+ GB of memory\); this machine has [\d.]+ GB/);
      assert.ok(lines.findIndex((l) => / tensors$/.test(l)) > 0, r.stderr);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

function lstatExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

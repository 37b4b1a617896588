// `moe-lens export`: the Parquet file read back with hyparquet (an independent reader) and the safetensors file parsed
// by the format's spec, both compared with `moe-lens route --json` on the same files (the embedded model, real CLI).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import type { RoutingResult } from '../../common/protocol';

const cli = (...args: string[]) => spawnSync(process.execPath, [join('dist', 'cli.js'), ...args], { encoding: 'utf8' });

describe('moe-lens export (Parquet, safetensors)', function () {
  this.timeout(180000);
  const dir = mkdtempSync(join(tmpdir(), 'moe-lens-export-'));
  const files = [join('samples', 'fib.py'), join('samples', 'notes.md')];
  const routed = files.map((f) => JSON.parse(cli('route', f, '--json', '--provider', 'cpu').stdout) as RoutingResult);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('Parquet: one row per (document, token, layer) with the routing of route --json, read back by hyparquet', async () => {
    const out = join(dir, 'routing.parquet');
    const run = cli('export', ...files, '--out', out, '--provider', 'cpu');
    assert.equal(run.status, 0, run.stderr);
    const buf = readFileSync(out);
    const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const rows = await parquetReadObjects({ file });
    const L = routed[0].model.layers;
    const K = routed[0].model.topK;
    assert.equal(rows.length, routed.reduce((s, r) => s + r.tokens * L, 0));
    assert.deepEqual(Object.keys(rows[0]), ['document', 'token', 'token_id', 'token_text', 'start', 'end', 'layer', 'expert_1', 'expert_2', 'weight_1', 'weight_2', 'entropy', 'surprisal', 'steering']);
    let i = 0;
    files.forEach((f, d) => {
      const r = routed[d];
      const text = readFileSync(f, 'utf8');
      for (let t = 0; t < r.tokens; t++) {
        for (let l = 0; l < L; l++, i++) {
          const row = rows[i];
          const base = (t * L + l) * K;
          assert.equal(row.document, f);
          assert.deepEqual([row.token, row.token_id, row.start, row.end, row.layer], [t, r.ids[t], r.offsets[2 * t], r.offsets[2 * t + 1], l]);
          assert.equal(row.token_text, text.slice(r.offsets[2 * t], r.offsets[2 * t + 1]));
          assert.deepEqual([row.expert_1, row.expert_2], r.experts.slice(base, base + K));
          assert.ok(Math.abs(Number(row.weight_1) - r.weights[base]) < 1e-6 && Math.abs(Number(row.weight_2) - r.weights[base + 1]) < 1e-6);
          assert.ok(Math.abs(Number(row.entropy) - r.entropy[t * L + l]) < 1e-5);
          assert.ok(Math.abs(Number(row.surprisal) - r.surprisal[t]) < 1e-4);
          assert.equal(row.steering, '');
        }
      }
    });
    const kv = parquetMetadata(file).key_value_metadata?.find((m) => m.key === 'moe-lens');
    assert.deepEqual(JSON.parse(kv!.value!), { format: 'moe-lens-routing/1', models: [routed[0].model.name] });
  });

  it('safetensors: the same data as arrays (header and little-endian data by the format spec)', () => {
    const out = join(dir, 'routing.safetensors');
    const run = cli('export', ...files, '--out', out, '--format', 'safetensors', '--provider', 'cpu');
    assert.equal(run.status, 0, run.stderr);
    const b = readFileSync(out);
    const n = Number(b.readBigUInt64LE(0));
    const header = JSON.parse(b.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__: Record<string, string> };
    assert.equal((8 + n) % 8, 0);
    const tensor = (name: string) => {
      const { dtype, data_offsets: [s, e] } = header[name];
      const bytes = b.subarray(8 + n + s, 8 + n + e);
      const copy = new Uint8Array(bytes).buffer;
      return dtype === 'I32' ? Array.from(new Int32Array(copy)) : Array.from(new Float32Array(copy));
    };
    const N = routed.reduce((s, r) => s + r.tokens, 0);
    const { layers: L, topK: K } = routed[0].model;
    assert.deepEqual(header.experts.shape, [N, L, K]);
    assert.deepEqual(header.entropy.shape, [N, L]);
    assert.deepEqual(JSON.parse(header.__metadata__.documents), files);
    assert.deepEqual(tensor('experts'), routed.flatMap((r) => r.experts));
    assert.deepEqual(tensor('offsets'), routed.flatMap((r) => r.offsets));
    assert.deepEqual(tensor('document'), routed.flatMap((r, d) => new Array<number>(r.tokens).fill(d)));
    tensor('weights').forEach((w, i) => assert.ok(Math.abs(w - routed.flatMap((r) => r.weights)[i]) < 1e-6));
  });

  it('bad input exits 2 naming the file, and writes nothing', () => {
    const out = join(dir, 'bad.parquet');
    const missing = cli('export', join('samples', 'no-such.py'), '--out', out);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no such file: samples.no-such\.py/);
    const format = cli('export', files[0], '--out', out, '--format', 'csv');
    assert.equal(format.status, 2);
    assert.match(format.stderr, /--format must be parquet or safetensors/);
    const folder = cli('export', files[0], '--out', join(dir, 'nope', 'x.parquet'));
    assert.equal(folder.status, 2);
    assert.match(folder.stderr, /no such folder/);
    assert.ok(!existsSync(out));
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hubFolder } from '../support/hfFixtures';
import { distDir } from '../support/paths';

/** `moe-lens import --quant` and `moe-lens verify` as a user runs them (dist/cli.js): good and bad arguments. */
describe('moe-lens import --quant and verify (CLI)', function () {
  this.timeout(180000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-quant-cli-'));
  const hub = hubFolder('olmoe');
  after(() => {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(hub, { recursive: true, force: true });
  });
  const cli = join(distDir, 'cli.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

  it('imports int4 with --block 64, printing the estimate first; route shows "int4"; verify passes', () => {
    const out = join(tmp, 'int4');
    const r = run('import', hub, out, '--quant', 'int4', '--block', '64');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr.split('\n')[0], /^moe-lens import: needs about [\d.]+ GB at fp32, [\d.]+ GB at int4 \(analysing with it: about [\d.]+ GB of memory\); this machine has [\d.]+ GB/);
    const m = JSON.parse(readFileSync(join(out, 'moe.json'), 'utf8'));
    assert.deepEqual([m.quantization.bits, m.quantization.block], [4, 64]);
    const text = join(tmp, 'a.txt');
    writeFileSync(text, 'The quick brown fox jumps over the lazy dog.\n');
    const route = run('route', text, '--model', out);
    assert.equal(route.status, 0, route.stderr);
    assert.match(route.stdout + route.stderr, /olmoe[^\n]* \(int4\) · cpu · \d+ tokens/);
    const v = run('verify', out);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /model\.onnx\.data: \d+ bytes, sha256 [0-9a-f]{64}: matches moe\.json/);
  });

  it('a bad --quant or --block value: exit 2 naming the flag, nothing written', () => {
    for (const [args, msg] of [[['--quant', 'int3'], /--quant must be int8 or int4, got int3/], [['--quant', 'int8', '--block', '48'], /--block must be one of 32, 64, 128, got 48/], [['--block', '64'], /--block needs --quant/], [['--quant', 'int8', '--dtype', 'fp16'], /--quant and --dtype cannot be combined/]] as const) {
      const out = join(tmp, 'bad');
      const r = run('import', hub, out, ...args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, msg);
      assert.ok(!existsSync(out));
    }
  });

  it('a block that does not divide a width: exit 2 naming --block and the tensor', () => {
    const odd = join(tmp, 'odd-hub');
    const r0 = spawnSync('cp', ['-rL', hub, odd]);
    assert.equal(r0.status, 0);
    const cfg = JSON.parse(readFileSync(join(odd, 'config.json'), 'utf8'));
    cfg.intermediate_size = 48; // the experts' down_proj input width: above 32, not a multiple of it
    unlinkSync(join(odd, 'config.json'));
    writeFileSync(join(odd, 'config.json'), JSON.stringify(cfg));
    const out = join(tmp, 'odd');
    const r = run('import', odd, out, '--quant', 'int8', '--block', '32');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /moe-lens import: --block \(model\.layers\.0\.mlp\.experts\.0\.down_proj\.weight\): block size 32 does not divide the input width 48/);
    assert.ok(!existsSync(out));
  });

  it('verify: a changed byte anywhere is exit 2 naming the file and field; a missing directory is exit 2', () => {
    const out = join(tmp, 'int8');
    assert.equal(run('import', hub, out, '--quant', 'int8', '--no-verify').status, 0);
    const data = join(out, 'model.onnx.data');
    const bytes = readFileSync(data);
    bytes[Math.floor(bytes.length / 3)] ^= 0x10;
    writeFileSync(data, bytes);
    const v = run('verify', out, '--json');
    assert.equal(v.status, 2);
    const j = JSON.parse(v.stdout.trim());
    assert.equal(j.ok, false);
    assert.equal(j.file, 'model.onnx.data');
    assert.equal(j.field, '/provenance/dataSha256');
    assert.equal(run('verify', join(tmp, 'nope')).status, 2);
  });
});

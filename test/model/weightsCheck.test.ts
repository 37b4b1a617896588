import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVerify } from '../../server/cli/verifyCommand';
import { importCheckpoint } from '../../server/import/importCheckpoint';
import { ModelSession } from '../../server/model/modelSession';
import { sampleOffsets } from '../../server/model/weightsCheck';
import { hubFolder } from '../support/hfFixtures';

/** Flips one byte of `file` at `at` and puts its mtime back (what only deliberate tampering or bit rot does). */
function flip(file: string, at: number, keepMtime = true): void {
  const st = statSync(file);
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] ^= 0x01;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
  if (keepMtime) utimesSync(file, st.atime, st.mtime);
}

/**
 * Loading without re-reading the weights: moe.json's provenance.dataCheck (size, mtime, sampled chunks) is what a load
 * checks; `moe-lens verify` hashes every byte. OLMoE fixture imports, a fresh one for each case that damages it.
 */
describe('weights check at load and moe-lens verify', function () {
  this.timeout(180000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-wcheck-'));
  let hub: string;
  let n = 0;
  // fp32 (8 MB of weights, more than the 4 MiB sampled) unless int8 is asked for
  const fresh = async (int8 = false) => {
    const dir = join(tmp, `m${n++}`);
    await importCheckpoint(hub, dir, { ...(int8 ? { quant: { bits: 8, block: 32 } } : {}), verify: false });
    return dir;
  };
  const verify = async (dir: string) => {
    let out = '';
    let err = '';
    const code = await runVerify([dir], (s) => (out += s), (s) => (err += s));
    return { code, out, err };
  };
  before(() => (hub = hubFolder('olmoe')));
  after(() => {
    rmSync(hub, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  });

  it('records size, mtime and sampled chunks; an untouched model loads and verifies', async () => {
    const dir = await fresh(true);
    const m = JSON.parse(readFileSync(join(dir, 'moe.json'), 'utf8'));
    const st = statSync(join(dir, 'model.onnx.data'));
    assert.equal(m.provenance.dataCheck.bytes, st.size);
    assert.equal(m.provenance.dataCheck.mtimeMs, st.mtimeMs);
    const s = await ModelSession.load(dir, 'cpu');
    assert.equal(s.info.weights, 'int8');
    await s.dispose();
    const v = await verify(dir);
    assert.equal(v.code, 0, v.err);
    assert.match(v.out, /model\.onnx\.data: \d+ bytes, sha256 [0-9a-f]{64}: matches moe\.json/);
  });

  it('a changed byte inside a sampled chunk is caught at load, even with the mtime put back', async () => {
    const dir = await fresh();
    const data = join(dir, 'model.onnx.data');
    const offsets = sampleOffsets(statSync(data).size);
    flip(data, offsets[Math.floor(offsets.length / 2)] + 100);
    await assert.rejects(ModelSession.load(dir, 'cpu'), /model\.onnx\.data \(\/provenance\/dataCheck\/sampleSha256\): sampled chunks hash to/);
    assert.equal((await verify(dir)).code, 2);
  });

  it('a byte outside the samples with the mtime put back loads (the documented gap); verify catches it', async () => {
    const dir = await fresh();
    const data = join(dir, 'model.onnx.data');
    const size = statSync(data).size;
    const offsets = sampleOffsets(size);
    const at = offsets.findIndex((o, i) => i + 1 < offsets.length && offsets[i + 1] - o > 2 * 65536);
    assert.ok(at >= 0, 'the fixture is large enough to have unsampled bytes');
    flip(data, offsets[at] + 65536 + 10);
    const s = await ModelSession.load(dir, 'cpu');
    await s.dispose();
    const v = await verify(dir);
    assert.equal(v.code, 2);
    assert.match(v.err, /model\.onnx\.data \(\/provenance\/dataSha256\): its sha256 is [0-9a-f]{64} but moe\.json provenance\.dataSha256 says/);
  });

  it('a new mtime makes the load hash every byte: unchanged bytes load, changed ones anywhere are refused', async () => {
    const dir = await fresh();
    const data = join(dir, 'model.onnx.data');
    const later = new Date(Date.now() + 60000);
    utimesSync(data, later, later);
    const s = await ModelSession.load(dir, 'cpu');
    await s.dispose();
    const offsets = sampleOffsets(statSync(data).size);
    flip(data, offsets[1] - 7, false); // outside the samples, and the write moves the mtime
    await assert.rejects(ModelSession.load(dir, 'cpu'), /model\.onnx\.data \(\/provenance\/dataSha256\): its sha256 is/);
  });

  it('a truncated file is refused by its size', async () => {
    const dir = await fresh();
    const data = join(dir, 'model.onnx.data');
    const st = statSync(data);
    const fd = openSync(data, 'r+');
    (await import('node:fs')).ftruncateSync(fd, st.size - 1);
    closeSync(fd);
    utimesSync(data, st.atime, st.mtime);
    await assert.rejects(ModelSession.load(dir, 'cpu'), /\/provenance\/dataCheck\/bytes\): is \d+ bytes but/);
  });
});

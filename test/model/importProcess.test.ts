// The extension's import runner (extension/models/importProcess.ts) against the real CLI (dist/cli.js): the child
// process, its JSON progress lines, the staging folder in "global storage", Cancel, a refused checkpoint, and the CLI
// itself killed midway (what the next import does with the temporary folder it left).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineSplitter, parseImportEvent, type ImportProgressEvent } from '../../common/importEvents';
import { importIntoStorage } from '../../extension/models/importProcess';
import { listImportedModels } from '../../extension/models/modelStorage';
import { hubFolder, hubRoot } from '../support/hfFixtures';
import { distDir } from '../support/paths';

describe('import in a child process (the extension command\'s runner)', function () {
  this.timeout(120000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-import-process-'));
  const cli = join(distDir, 'cli.js');
  const models = join(tmp, 'globalStorage', 'models');
  let hf: string;
  before(() => {
    hf = hubFolder('qwen3_moe');
  });
  after(() => {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(hubRoot(hf), { recursive: true, force: true });
  });

  it('imports a hub checkpoint into models/<name>, reporting bytes and tensors; the same name again gets "-2"', async () => {
    // the staging folder of an extension host that died mid-import: removed by the next import
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    mkdirSync(join(models, `.importing-${dead}-abc`, 'model'), { recursive: true });
    const seen: ImportProgressEvent[] = [];
    const r = await importIntoStorage({ cli, hfDir: hf, modelsDir: models, name: 'Qwen3-tiny', onProgress: (p) => seen.push(p) });
    assert.equal(r.kind, 'done', JSON.stringify(r));
    if (r.kind !== 'done') return;
    assert.equal(r.dir, join(models, 'Qwen3-tiny'));
    assert.deepEqual(readdirSync(r.dir).sort(), ['model.onnx', 'model.onnx.data', 'moe.json', 'source-config.json', 'tokenizer.json']);
    const m = JSON.parse(readFileSync(join(r.dir, 'moe.json'), 'utf8'));
    assert.equal(m.name, 'Qwen3-tiny');
    assert.deepEqual([r.result.architecture, r.result.layers, r.result.routerLayers, r.result.experts, r.result.topK], ['Qwen3MoeForCausalLM', 3, m.layers, 8, 2]);
    const weights = seen.filter((p) => p.phase === 'weights');
    assert.ok(weights.length >= 2, `${weights.length} weight progress events`);
    assert.equal(weights.at(-1)!.tensorsDone, weights.at(-1)!.tensorsTotal);
    assert.equal(weights.at(-1)!.bytesDone, r.result.bytesRead);
    assert.deepEqual(seen.slice(-3).map((p) => p.phase), ['hashing', 'verifying', 'done']);
    const again = await importIntoStorage({ cli, hfDir: hf, modelsDir: models, name: 'qwen3-TINY' });
    assert.equal(again.kind === 'done' && again.folder, 'qwen3-TINY-2');
    assert.deepEqual(readdirSync(models).sort(), ['Qwen3-tiny', 'qwen3-TINY-2'], 'no staging folder left');
    assert.deepEqual(listImportedModels(models).map((x) => [x.name, x.summary]), [
      ['Qwen3-tiny', 'Qwen3MoeForCausalLM · 2 layers × 8 experts, top-2'],
      ['qwen3-TINY', 'Qwen3MoeForCausalLM · 2 layers × 8 experts, top-2'],
    ]);
    mkdirSync(join(models, 'damaged'));
    writeFileSync(join(models, 'damaged', 'moe.json'), '{');
    const damaged = listImportedModels(models).find((x) => x.folder === 'damaged');
    assert.match(damaged?.summary ?? '', /^unreadable moe\.json/);
    rmSync(join(models, 'damaged'), { recursive: true });
  });

  it('a refused checkpoint: the importer\'s message naming file and field, nothing added to models/', async () => {
    const bad = join(tmp, 'deepseek');
    mkdirSync(bad);
    for (const f of readdirSync(hf)) if (f !== 'config.json') writeFileSync(join(bad, f), readFileSync(join(hf, f)));
    const cfg = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8'));
    writeFileSync(join(bad, 'config.json'), JSON.stringify({ ...cfg, architectures: ['JambaForCausalLM'] }));
    const before = readdirSync(models).sort();
    const r = await importIntoStorage({ cli, hfDir: bad, modelsDir: models, name: 'deepseek' });
    assert.equal(r.kind, 'failed');
    if (r.kind !== 'failed') return;
    assert.match(r.message, /config\.json \(architectures\).*JambaForCausalLM/);
    assert.deepEqual([r.file, r.field], ['config.json', 'architectures']);
    assert.deepEqual(readdirSync(models).sort(), before);
  });

  it('Cancel kills the child and leaves nothing behind', async () => {
    const before = readdirSync(models).sort();
    const abort = new AbortController();
    let events = 0;
    const r = await importIntoStorage({ cli, hfDir: hf, modelsDir: models, name: 'cancelled', signal: abort.signal, onProgress: () => events++ === 0 && abort.abort() });
    assert.equal(r.kind, 'cancelled');
    assert.deepEqual(readdirSync(models).sort(), before);
  });

  it('the CLI killed with SIGTERM leaves its temporary folder; the next import into the same folder removes it', async () => {
    const parent = join(tmp, 'killed');
    mkdirSync(parent);
    const out = join(parent, 'model');
    const child = spawn(process.execPath, [cli, 'import', hf, out, '--progress', 'json'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const lines = new LineSplitter();
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      // killed at the first tensor: the rest of the weights, hashing and the onnxruntime check are still ahead
      if (lines.push(c).some((l) => parseImportEvent(l)?.event === 'progress')) child.kill('SIGTERM');
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((res) => child.once('close', (c, s) => res([c, s])));
    assert.deepEqual([code, signal], [null, 'SIGTERM'], 'the import finished before the kill');
    assert.ok(!existsSync(out), 'a half-written OUT_DIR');
    const left = readdirSync(parent);
    assert.equal(left.length, 1);
    assert.match(left[0], new RegExp(`^\\.model\\.importing-${child.pid}-`));
    const again = spawn(process.execPath, [cli, 'import', hf, out], { stdio: 'ignore' });
    assert.equal(await new Promise((res) => again.once('close', res)), 0);
    assert.deepEqual(readdirSync(parent), ['model']);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Methods } from '../../common/protocol';
import { unpackRouting } from '../../common/routingCodec';
import { importCheckpoint } from '../../server/import/importCheckpoint';
import { checkInvariants } from '../support/invariants';
import { tinyQwen3Moe, writeCheckpoint } from '../support/safetensorsWriter';
import { TestServer } from './client';

/**
 * An imported checkpoint in the real server over stdio, unchanged server code: routing, hover, steering and
 * continuation on a Qwen3-MoE layout (a dense layer without router, BOS added as Hugging Face would).
 */
describe('language server on an imported model', function () {
  this.timeout(120000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-lsp-import-'));
  let s: TestServer;
  const uri = 'file:///sample.ts';
  const text = 'export function area(r: number): number {\r\n\treturn Math.PI * r ** 2; // 😀 面积\n}\n';

  before(async () => {
    const hf = join(tmp, 'hf');
    writeCheckpoint(hf, tinyQwen3Moe(11), 2, { add_bos_token: true, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>' });
    await importCheckpoint(hf, join(tmp, 'model'));
    s = new TestServer();
    await s.start({ modelPath: join(tmp, 'model') });
    const st = await s.settled();
    assert.equal(st.state, 'ready', st.message);
    s.open(uri, text, 'typescript');
  });
  after(async () => {
    await s?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('routing covers the text with one router layer (the dense layer has none)', async () => {
    const r = unpackRouting(await s.conn.sendRequest(Methods.routing, { textDocument: { uri } }));
    checkInvariants(r, text);
    assert.deepEqual([r.model.layers, r.model.experts, r.model.topK], [1, 4, 2]);
    assert.ok(r.surprisal.every((x) => Number.isFinite(x) && x > 0), 'every token, the first included (after BOS), has a surprisal');
  });

  it('hover, then steering: a disabled expert disappears from routing and hover', async () => {
    const h = await s.conn.sendRequest<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 18 } });
    assert.ok(h && /\| 0 \| E\d/.test(h.contents.value), 'hover has the router layer row');
    const before = unpackRouting(await s.conn.sendRequest(Methods.routing, { textDocument: { uri } }));
    const e = before.experts[0];
    const st = await s.conn.sendRequest(Methods.setSteering, { rules: [{ layer: 0, expert: e, mode: 'disable' }] });
    assert.equal(st.rules.length, 1);
    for (;;) {
      const r = unpackRouting(await s.conn.sendRequest(Methods.routing, { textDocument: { uri } }));
      if (r.steered) {
        assert.ok(!r.experts.includes(e), `disabled expert ${e} still routed`);
        break;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    await s.conn.sendRequest(Methods.setSteering, { rules: [] });
  });

  it('continuation runs on the imported model', async () => {
    const g = await s.conn.sendRequest<{ baseline: string; steered: string }>('moeLens/generate', { uri, offset: text.indexOf('return'), maxNewTokens: 6 });
    assert.ok(g.baseline.length > 0);
    assert.equal(g.baseline, g.steered);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Methods, SteeringMethods } from '../../common/protocol';
import { unpackRouting } from '../../common/routingCodec';
import { isRoutingResult } from '../../common/webviewMessages';
import { importCheckpoint } from '../../server/import/importCheckpoint';
import { golden, HF_ARCHS, hubFolder, hubRoot } from '../support/hfFixtures';
import { checkInvariants } from '../support/invariants';
import { TestServer } from './client';

/**
 * Each architecture, imported from its Hugging Face hub layout with its family's real tokenizer, in the
 * real server over stdio: what the editor asks for (routing for the heatmap and the panel, hover, steering, Compare
 * Continuation) works unchanged. Parity with transformers is test/model/importParity.test.ts.
 */
for (const arch of HF_ARCHS) {
  describe(`language server on an imported ${arch} checkpoint`, function () {
    this.timeout(120000);
    const tmp = mkdtempSync(join(tmpdir(), `moe-lens-lsp-${arch}-`));
    const g = golden(arch);
    const text = g.texts[0].text; // source code with CRLF line ends and tabs
    const uri = `file:///${arch}/sample.py`;
    let s: TestServer;

    before(async () => {
      const hf = hubFolder(arch);
      try {
        await importCheckpoint(hf, join(tmp, 'model'));
      } finally {
        rmSync(hubRoot(hf), { recursive: true, force: true });
      }
      s = new TestServer();
      await s.start({ modelPath: join(tmp, 'model') });
      const st = await s.settled();
      assert.equal(st.state, 'ready', st.message);
      s.open(uri, text, 'python');
    });
    after(async () => {
      await s?.stop();
      rmSync(tmp, { recursive: true, force: true });
    });

    it("routing: transformers' token ids, one layer per router, a result the panel accepts", async () => {
      const r = unpackRouting(await s.conn.sendRequest(Methods.routing, { textDocument: { uri } }));
      checkInvariants(r, text);
      const bos = g.tokenizer.bos_added ? 1 : 0;
      assert.deepEqual(r.ids, g.texts[0].input_ids.slice(bos), 'the ids Hugging Face gives (BOS is run, not shown)');
      assert.equal(r.model.layers, g.moe_layers.length);
      assert.ok(isRoutingResult(r), 'the routing panel validates what it is sent');
    });

    it('hover lists every router layer; a disabled expert leaves routing', async () => {
      const h = await s.conn.sendRequest<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 1 } });
      assert.ok(h, 'a hover');
      for (let l = 0; l < g.moe_layers.length; l++) assert.match(h.contents.value, new RegExp(`\\| ${l} \\| E\\d`), `layer ${l} row`);
      const before = unpackRouting(await s.conn.sendRequest(Methods.routing, { textDocument: { uri } }));
      const e = before.experts[0];
      await s.conn.sendRequest(Methods.setSteering, { rules: [{ layer: 0, expert: e, mode: 'disable' }] });
      try {
        for (let tries = 0; ; tries++) {
          const r = unpackRouting(await s.conn.sendRequest(Methods.routing, { textDocument: { uri } }));
          if (r.steered) {
            const L = r.model.layers, K = r.model.topK;
            for (let t = 0; t < r.tokens; t++) for (let k = 0; k < K; k++) assert.notEqual(r.experts[(t * L + 0) * K + k], e, `token ${t} still routed to disabled E${e}`);
            break;
          }
          assert.ok(tries < 200, 'a steered result arrives');
          await new Promise((res) => setTimeout(res, 50));
        }
        const g2 = await s.conn.sendRequest(SteeringMethods.generate, { uri, offset: text.length, maxNewTokens: 4 });
        assert.ok(g2.baseline.length > 0 && g2.steered.length > 0, 'Compare Continuation gives both sides');
      } finally {
        await s.conn.sendRequest(Methods.setSteering, { rules: [] });
      }
    });

    it('a forced expert is in every token\'s routing at its layer', async () => {
      const before = unpackRouting(await s.conn.sendRequest(Methods.routing, { textDocument: { uri } }));
      const L = before.model.layers, K = before.model.topK, E = before.model.experts;
      const last = L - 1;
      // the expert chosen least often at the last router layer
      const count = new Array<number>(E).fill(0);
      for (let t = 0; t < before.tokens; t++) for (let k = 0; k < K; k++) count[before.experts[(t * L + last) * K + k]]++;
      const e = count.indexOf(Math.min(...count));
      await s.conn.sendRequest(Methods.setSteering, { rules: [{ layer: last, expert: e, mode: 'force' }] });
      try {
        for (let tries = 0; ; tries++) {
          const r = unpackRouting(await s.conn.sendRequest(Methods.routing, { textDocument: { uri } }));
          if (r.steered) {
            for (let t = 0; t < r.tokens; t++) assert.ok(r.experts.slice((t * L + last) * K, (t * L + last + 1) * K).includes(e), `token ${t} not routed to forced E${e}`);
            break;
          }
          assert.ok(tries < 200, 'a steered result arrives');
          await new Promise((res) => setTimeout(res, 50));
        }
      } finally {
        await s.conn.sendRequest(Methods.setSteering, { rules: [] });
      }
    });
  });
}

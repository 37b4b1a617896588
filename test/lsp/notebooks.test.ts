// Jupyter notebooks over LSP 3.17 notebook document sync, the real server on the embedded model: a cell is routed
// after the cells above it (its routing differs from the same text alone, and equals the cell's part of the joined
// text analysed as one document), offsets stay cell-local, an edit above re-analyses the cells below, "cellAlone"
// reads a cell as any document, and a closed notebook's cells are gone.
import assert from 'node:assert/strict';
import { Methods, SteeringMethods, type RoutingResult } from '../../common/protocol';
import { unpackRouting } from '../../common/routingCodec';
import { cellsAbovePrefix, firstCellToken } from '../../server/analysis/cellContext';
import { checkInvariants } from '../support/invariants';
import { TestServer } from './client';

const routing = async (s: TestServer, uri: string): Promise<RoutingResult> => unpackRouting(await s.conn.sendRequest(Methods.routing, { textDocument: { uri } }));
const until = async (cond: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 600 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(cond(), `timed out waiting for ${what}`);
};
const changesOf = (s: TestServer, uri: string) => s.routingChanged.filter((c) => c.uri === uri && !c.partial).length;
const maxDiff = (a: number[], b: number[]) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe('language server: notebook cells (notebook document sync)', function () {
  let s: TestServer;
  const nb = 'file:///w/fib.ipynb';
  const cells = [
    { kind: 'markdown' as const, text: '# Fibonacci numbers\nEach number is the sum of the two before it.' },
    { kind: 'code' as const, text: 'def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n' },
    { kind: 'code' as const, text: 'for i in range(10):\n    print(i, fib(i))\n' },
  ];
  let uris: string[] = [];

  before(async () => {
    s = new TestServer();
    await s.start();
    assert.equal((await s.settled()).state, 'ready');
  });
  after(() => s.stop());

  it('routes a cell after the cells above: the joined text read as one document, cut back to the cell in its own offsets', async () => {
    uris = s.openNotebook(nb, cells);
    const joined = cellsAbovePrefix(cells.slice(0, 2).map((c) => c.text));
    s.open('file:///w/joined.py', joined + cells[2].text, 'python');
    s.open('file:///w/alone.py', cells[2].text, 'python');
    const [cell, whole, alone] = [await routing(s, uris[2]), await routing(s, 'file:///w/joined.py'), await routing(s, 'file:///w/alone.py')];
    checkInvariants(cell, cells[2].text);
    const first = firstCellToken(whole.offsets, joined.length);
    assert.equal(cell.tokens, whole.tokens - first);
    assert.deepEqual(cell.context, { cells: 2, tokens: first, truncated: false });
    // cell-local offsets: the cell's tokens tile its own text (the same tokens as the text alone)
    assert.equal(cell.offsets[0], 0);
    assert.equal(cell.offsets[2 * cell.tokens - 1], cells[2].text.length);
    assert.deepEqual(cell.ids, alone.ids);
    assert.deepEqual(cell.offsets, alone.offsets);
    assert.deepEqual(cell.offsets, whole.offsets.slice(2 * first).map((o) => o - joined.length));
    // the same routing as the joined document's tail (both full passes of the same text)
    assert.deepEqual(cell.experts, whole.experts.slice(first * cell.model.layers * cell.model.topK));
    assert.ok(maxDiff(cell.surprisal, whole.surprisal.slice(first)) < 1e-4);
    // and not the routing of the text alone: the context changes which experts run and how surprising the start is
    assert.notDeepEqual(cell.experts, alone.experts);
    assert.equal(alone.surprisal[0], 0);
    assert.ok(cell.surprisal[0] > 0, 'the first token of a cell in context is scored');
    // the first cell has nothing above it: read alone
    assert.equal((await routing(s, uris[0])).context, undefined);
  });

  it("the next-token change in a cell is the model's prediction after the cells above, in the cell's positions", async () => {
    const offset = cells[2].text.indexOf('print');
    const ask = (uri: string) => s.conn.sendRequest(SteeringMethods.nextTokenChange, { uri, offset });
    const [cell, alone] = [await ask(uris[2]), await ask('file:///w/alone.py')];
    assert.equal(cell.position, alone.position);
    assert.deepEqual(cell.range, alone.range);
    assert.equal(cells[2].text.slice(...cell.range).trim(), 'print', 'the range is in the cell');
    assert.notDeepEqual(cell.baseline, alone.baseline, 'the cells above change what the model expects next');
  });

  it('hovers in a cell with cell-local positions, saying what the cell was read after', async () => {
    // "print" on the cell's second line
    const h = (await s.conn.sendRequest('textDocument/hover', { textDocument: { uri: uris[2] }, position: { line: 1, character: 6 } })) as { contents: { value: string }; range: { start: { line: number; character: number } } };
    assert.match(h.contents.value, /read after the 2 cells above \(\d+ tokens of context\)/);
    assert.equal(h.range.start.line, 1);
    assert.ok(h.range.start.character <= 6);
  });

  it('an edit of a cell above re-analyses the cells below it, once per burst of typing', async () => {
    const before = await routing(s, uris[2]);
    const seen = changesOf(s, uris[2]);
    let text = cells[0].text;
    for (const w of [' Starting', ' from', ' zero', ' and', ' one.']) s.changeCell(nb, uris[0], (text += w));
    await until(() => changesOf(s, uris[2]) > seen, 'routingChanged of the cell below');
    const after = await routing(s, uris[2]);
    assert.equal(after.version, before.version, "the cell's own text did not change");
    assert.ok(after.context!.tokens > before.context!.tokens);
    assert.deepEqual(after.ids, before.ids);
    assert.notDeepEqual([after.experts, after.surprisal], [before.experts, before.surprisal]);
    await new Promise((r) => setTimeout(r, 600)); // any further (uncoalesced) analysis would have been announced
    assert.equal(changesOf(s, uris[2]) - seen, 1, 'five edits above, one analysis of the cell below');
  });

  it('a cell inserted above, and one deleted, change the context of the cells below', async () => {
    const before = await routing(s, uris[2]);
    const seen = changesOf(s, uris[2]);
    const added = 'vscode-notebook-cell:/w/fib.ipynb#W9sZmlsZQ';
    const open = { uri: added, languageId: 'markdown', version: 1, text: 'A notebook about recursion.' };
    const insert = { structure: { array: { start: 0, deleteCount: 0, cells: [{ kind: 1, document: added }] }, didOpen: [open] } };
    void s.conn.sendNotification('notebookDocument/didChange', { notebookDocument: { uri: nb, version: 20 }, change: { cells: insert } });
    await until(() => changesOf(s, uris[2]) > seen, 'routingChanged after the insertion');
    const inserted = await routing(s, uris[2]);
    assert.equal(inserted.context!.cells, before.context!.cells + 1);
    assert.ok(inserted.context!.tokens > before.context!.tokens);
    const remove = { structure: { array: { start: 0, deleteCount: 1 }, didClose: [{ uri: added }] } };
    void s.conn.sendNotification('notebookDocument/didChange', { notebookDocument: { uri: nb, version: 21 }, change: { cells: remove } });
    await until(() => changesOf(s, uris[2]) > seen + 1, 'routingChanged after the deletion');
    const removed = await routing(s, uris[2]);
    assert.deepEqual(removed.context, before.context);
    // the same prefix again: the same routing (up to a near-tie flipped by the KV cache's other shapes, as in
    // incremental.test.ts: at most 0.1% of the slots)
    const differ = removed.experts.filter((e, i) => e !== before.experts[i]).length;
    assert.ok(removed.experts.length === before.experts.length && differ <= Math.ceil(removed.experts.length * 0.001), `${differ} expert ids differ`);
    await assert.rejects(routing(s, added), /not open/);
  });

  it('cuts a long prefix from the left to fit the context, and the hover says so', async () => {
    const many = Array.from({ length: 80 }, (_, i) => ({ kind: 'code' as const, text: `x${i} = step(${i}, "value number ${i}")` }));
    const last = { kind: 'code' as const, text: 'total = sum([x0, x1, x2])\n' };
    const long = s.openNotebook('file:///w/long.ipynb', [...many, last]);
    const r = await routing(s, long[long.length - 1]);
    assert.equal(r.context!.truncated, true);
    assert.equal(r.context!.cells, 80);
    assert.ok(r.context!.tokens + r.tokens <= r.model.contextLength, `${r.context!.tokens} + ${r.tokens} tokens exceed the context`);
    assert.equal(r.windows, 1);
    assert.equal(r.offsets[2 * r.tokens - 1], last.text.length);
    const h = (await s.conn.sendRequest('textDocument/hover', { textDocument: { uri: long[long.length - 1] }, position: { line: 0, character: 1 } })) as { contents: { value: string } };
    assert.match(h.contents.value, /cut from the left to fit the 512-token context/);
    s.closeNotebook('file:///w/long.ipynb', long);
  });

  it('"cellAlone" reads each cell as any document', async () => {
    const seen = changesOf(s, uris[2]);
    void s.conn.sendNotification('workspace/didChangeConfiguration', { settings: { moeLens: { modelPath: '', executionProvider: 'cpu', maxTokens: 4096, notebook: { context: 'cellAlone' } } } });
    await until(() => changesOf(s, uris[2]) > seen, 'routingChanged after the setting changed');
    const [cell, alone] = [await routing(s, uris[2]), await routing(s, 'file:///w/alone.py')];
    assert.equal(cell.context, undefined);
    assert.deepEqual([cell.ids, cell.offsets, cell.experts, cell.surprisal], [alone.ids, alone.offsets, alone.experts, alone.surprisal]);
  });

  it('a closed notebook takes its cells with it', async () => {
    s.closeNotebook(nb, uris);
    // notifications and requests are handled in order: the close comes first
    for (const uri of uris) await assert.rejects(routing(s, uri), /not open/);
  });
});

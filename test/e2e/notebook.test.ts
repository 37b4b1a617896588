// A Jupyter notebook as a user meets it: MoE Lens in code-server, samples/fib.ipynb opened with Quick Open
// (code-server's built-in ipynb serializer), the expert heatmap painted in its code cells, a hover in the last cell
// that says it was read after the cells above, and the status bar following the cell that has the focus.
// The extension is loaded from this checkout's build (dist/, as `npm start` does), not from a .vsix: editor.test.ts
// covers the package, and this suite then also runs where packaging cannot (a checkout whose node_modules is a link).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { cleanup, copySamples, extensionColours, hoverRows, launchBrowser, log, repoRoot, resultsDir, scripts, tempDir, until, Workbench, type CodeServer } from './harness';

describe('MoE Lens in a Jupyter notebook in code-server', function () {
  this.timeout(600000);
  let tmp: string | undefined;
  let cs: CodeServer | undefined;
  let browser: Browser | undefined;
  let wb: Workbench;
  let colours: Map<string, [number, number, number, number]>;

  before(async function () {
    this.timeout(1800000); // a first run installs code-server (minutes)
    const s = await scripts();
    for (const f of existsSync(resultsDir) ? readdirSync(resultsDir) : []) if (f.startsWith('notebook-')) rmSync(join(resultsDir, f));
    const { codeServerBin } = s.installCodeServer({ log });
    // code-server ships VS Code's built-in ipynb extension: the serializer that opens .ipynb files as notebooks
    const ipynb = join(codeServerBin, '..', '..', '..', 'lib', 'vscode', 'extensions', 'ipynb', 'package.json');
    const types = (JSON.parse(readFileSync(ipynb, 'utf8')) as { contributes: { notebooks: { type: string }[] } }).contributes.notebooks.map((n) => n.type);
    assert.ok(types.includes('jupyter-notebook'), `code-server's ipynb extension serializes ${types.join(', ')}`);
    tmp = tempDir('e2e-notebook');
    assert.ok(existsSync(join(repoRoot, 'dist', 'extension.js')) && existsSync(join(repoRoot, 'dist', 'server.js')), 'npm run build first');
    const userDataDir = join(tmp, 'user-data');
    const extensionsDir = join(tmp, 'extensions');
    colours = new Map([...extensionColours(join(repoRoot, 'package.json'))].filter(([id]) => /^moeLens\.expert\d+$/.test(id)));
    cs = await s.startCodeServer({
      userDataDir, extensionsDir, log, extensionDevelopment: true,
      settings: { 'workbench.secondarySideBar.defaultVisibility': 'hidden', 'moeLens.heatmap.metric': 'expert', 'moeLens.heatmap.layer': 0, 'notebook.lineNumbers': 'off' },
    });
    browser = await launchBrowser();
    wb = new Workbench(await browser.newPage({ viewport: { width: 1400, height: 900 } }), 'notebook');
    await wb.open(s.workbenchUrl(cs.url, { folder: copySamples(tmp), extensionDevelopmentPath: repoRoot }));
  });

  after(async function () {
    await browser?.close().catch(() => undefined);
    if (this.currentTest?.state === 'failed' && cs) console.log(cs.output().split('\n').slice(-40).join('\n'));
    await cs?.stop();
    cleanup(tmp);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) await wb.screenshot(`failed-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 40)}`).catch(() => undefined);
  });

  /** Expert-coloured spans in the code cell whose text starts with `start`. */
  const cellDecorations = (start: string) => wb.page.evaluate(([first, wanted]) => {
    const editors = [...document.querySelectorAll('.notebook-editor .monaco-editor')];
    const editor = editors.find((e) => (e.querySelector('.view-lines')?.textContent ?? '').replace(/\u00a0/g, ' ').trimStart().startsWith(first));
    if (!editor) return -1;
    const spans = [...editor.querySelectorAll('.view-overlays > div > div.cdr')].map((e) => getComputedStyle(e).backgroundColor);
    return spans.filter((bg) => wanted.some((c) => bg.replace(/\s/g, '').startsWith(`rgba(${c.slice(0, 3).join(',')},`))).length;
  }, [start, [...colours.values()]] as const);

  it('opens samples/fib.ipynb as a notebook and paints the expert heatmap in its code cells', async () => {
    await wb.page.keyboard.press('Control+P');
    await wb.pick('fib.ipynb');
    await wb.page.waitForSelector('.notebook-editor .monaco-editor .view-line', { timeout: 120000 });
    for (const cell of ['def fib', 'for i in']) {
      const n = await until(`heatmap decorations in the cell "${cell}…"`, async () => ((await cellDecorations(cell)) >= 5 ? cellDecorations(cell) : undefined));
      log(`cell "${cell}…": ${n} expert-coloured spans`);
    }
    await wb.screenshot('heatmap');
  });

  let lastCellTokens = 0;
  it('hovering a token in a cell shows its routing, read after the cells above', async () => {
    const hover = await wb.hover('print', 'print', /read after/, '.notebook-editor');
    log(hover.split('\n').slice(0, 2).join(' | '));
    assert.match(hover, /Notebook cell read after the 3 cells above \(\d+ tokens of context\)/);
    assert.ok(hoverRows(hover).size >= 1, `no layer rows:\n${hover}`);
    // token t/T counts the cell's own tokens only
    const m = /token (\d+)\/(\d+)/.exec(hover);
    assert.ok(m, hover);
    lastCellTokens = Number(m[2]);
    assert.ok(lastCellTokens > 5 && lastCellTokens < 40, `${lastCellTokens} tokens in a two-line cell`);
    await wb.screenshot('hover');
  });

  it('the status bar follows the cell that has the focus', async () => {
    const tokens = async () => Number(/(\d+) tok/.exec(await wb.status())?.[1] ?? NaN);
    const focusCell = async (start: string) => {
      await wb.page.keyboard.press('Escape');
      const line = wb.page.locator('.notebook-editor .monaco-editor .view-line', { hasText: start }).first();
      await line.click();
    };
    await focusCell('print(i,');
    await until(`the status bar counting the last cell's ${lastCellTokens} tokens`, async () => (await tokens()) === lastCellTokens);
    await focusCell('fib(n):');
    const other = await until("the status bar counting another cell's tokens", async () => {
      const n = await tokens();
      return Number.isFinite(n) && n !== lastCellTokens ? n : undefined;
    });
    log(`status bar: ${lastCellTokens} tok in the last cell, ${other} tok in the first code cell`);
    await wb.page.keyboard.press('Escape');
    assert.equal(await wb.page.$('.tab.dirty'), null, 'clicks must not modify the notebook');
  });
});

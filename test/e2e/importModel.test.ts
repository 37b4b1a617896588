// "MoE Lens: Import Hugging Face Model…" as a user runs it: the packaged .vsix in code-server, the command from the
// palette, the folder typed into the editor's own folder picker, the progress notification, "Use This Model", then a
// hover on a sample that shows the imported model's layers and experts. The checkpoints are the tiny Qwen3-MoE and
// DeepSeek-V3 of test/fixtures/hf (hub layout, bf16, three shards) with the real Qwen3 and DeepSeek-V3 tokenizers,
// copied to a temporary folder.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildVsix, cleanup, copySamples, hoverRows, launchBrowser, log, repoRoot, resultsDir, scripts, tempDir, until, Workbench, type CodeServer } from './harness';

const MODEL = 'Qwen3-MoE-tiny';
const DEEPSEEK = 'DeepSeek-V3-tiny';

describe('Import Hugging Face Model in code-server (installed from the .vsix)', function () {
  this.timeout(600000);
  let tmp: string | undefined;
  let cs: CodeServer | undefined;
  let browser: Browser | undefined;
  let wb: Workbench;
  let userDataDir: string;
  let hf: string;
  let deepseek: string;
  let broken: string;
  let workspace: string;

  before(async function () {
    this.timeout(1800000); // a first run installs code-server (minutes)
    const s = await scripts();
    for (const f of existsSync(resultsDir) ? readdirSync(resultsDir) : []) if (f.startsWith('import-')) rmSync(join(resultsDir, f));
    s.installCodeServer({ log });
    tmp = tempDir('e2e-import');
    // The checkpoint folders a user would pick: a fixture's files and the tokenizer its family ships.
    const checkpoint = (fixtureName: string, model: string) => {
      const fixture = join(repoRoot, 'test', 'fixtures', 'hf', fixtureName);
      const golden = JSON.parse(readFileSync(join(fixture, 'golden.json'), 'utf8')) as { tokenizer: { npm_folder: string } };
      const dir = join(tmp!, 'checkpoints', model);
      mkdirSync(dir, { recursive: true });
      for (const f of readdirSync(fixture)) if (f !== 'golden.json') cpSync(join(fixture, f), join(dir, f));
      cpSync(join(repoRoot, golden.tokenizer.npm_folder, 'tokenizer.json'), join(dir, 'tokenizer.json'));
      // Hub repositories often carry the original-format weights in a subfolder; here it tells the test that the
      // folder picker has moved into the checkpoint (the workspace folder it starts in has no subfolder).
      mkdirSync(join(dir, 'original'));
      return dir;
    };
    hf = checkpoint('qwen3_moe', MODEL);
    deepseek = checkpoint('deepseek_v3', DEEPSEEK);
    // The same checkpoint claiming an architecture the importer does not support.
    broken = join(tmp, 'checkpoints', 'jamba-like');
    cpSync(hf, broken, { recursive: true });
    const config = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8'));
    writeFileSync(join(broken, 'config.json'), JSON.stringify({ ...config, architectures: ['JambaForCausalLM'] }));
    const vsix = buildVsix(tmp);
    userDataDir = join(tmp, 'user-data');
    const extensionsDir = join(tmp, 'extensions');
    s.installExtension(vsix, { extensionsDir, userDataDir, log });
    cs = await s.startCodeServer({ userDataDir, extensionsDir, log, settings: { 'workbench.secondarySideBar.defaultVisibility': 'hidden' } });
    browser = await launchBrowser();
    wb = new Workbench(await browser.newPage({ viewport: { width: 1400, height: 860 } }), 'import');
    workspace = copySamples(tmp);
    await wb.open(s.workbenchUrl(cs.url, { folder: workspace }));
    // ready: "MoE Lens: NAME · cpu" (no "tok" part: the status bar follows the active editor, and none is open)
    await until('the embedded model ready in the status bar', async () => /MoE Lens: \S.* · cpu/.test(await wb.status()));
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

  /** The editor's folder picker (a quick input in the browser): type the folder with a trailing "/", then accept it. */
  /** The import command's second question (extension/models/importModelCommand.ts pickPrecision). */
  const PRECISION = 'MoE Lens: precision of the imported weights';

  async function pickFolder(folder: string): Promise<void> {
    const input = '.quick-input-widget:not([style*="display: none"]) .quick-input-box input';
    const dialogTitle = () => wb.page.evaluate(() => {
      const w = document.querySelector('.quick-input-widget') as HTMLElement | null;
      return w && w.style.display !== 'none' ? (w.querySelector('.quick-input-title')?.textContent?.trim() ?? '') : '';
    });
    const folderTitle = await until('the folder picker', async () => {
      await wb.page.waitForSelector(input, { state: 'visible' });
      const t = await dialogTitle();
      return t.includes('checkpoint folder') ? t : undefined;
    });
    // The picker fills in its starting folder asynchronously, and on a loaded machine it has been seen to do so again
    // after our folder was accepted (the dialog back at its starting folder, the import never asked for): the folder
    // is typed and accepted until the picker has gone.
    for (let attempt = 1; ; attempt++) {
      await until('the picker\'s starting folder', async () => (await wb.page.inputValue(input)).endsWith('/'));
      await until(`${folder}/ in the picker`, async () => {
        if ((await wb.page.inputValue(input)) !== `${folder}/`) await wb.page.fill(input, `${folder}/`);
        return (await wb.page.inputValue(input)) === `${folder}/`;
      });
      // a folder picker lists only folders: inside the checkpoint it shows ".." and its one subfolder, original/
      // (visible rows only: a recycled row keeps the hidden detail line of an earlier quick pick's item)
      await until(`the picker inside ${folder}`, () => wb.page.evaluate(() => {
        const rows = [...document.querySelectorAll('.quick-input-widget .quick-input-list .monaco-list-row .label-name')].filter((e) => (e as HTMLElement).checkVisibility()).map((e) => e.textContent?.trim());
        return rows.join('|') === '..|original';
      }));
      await wb.page.keyboard.press('Enter');
      const gone = await until('the folder picker to close', async () => ((await dialogTitle()) !== folderTitle ? true : undefined), 10000).catch(() => false);
      if (gone) return;
      if (attempt === 3) throw new Error(`the folder picker did not accept ${folder} in 3 attempts`);
      log(`the folder picker is still open after Enter (attempt ${attempt}): typing the folder again`);
    }
  }

  const toast = (text: string) => until(`a notification "${text}"`, () => wb.page.evaluate((t) => {
    const found = [...document.querySelectorAll('.notifications-toasts .notification-toast')].map((e) => (e as HTMLElement).innerText).find((s) => s.includes(t));
    return found ?? undefined;
  }, text));

  /** The token id a hover's first line names ("(id N)"). */
  const tokenId = (hover: string) => /\(id (\d+)\)/.exec(hover)?.[1];
  let qwenTokenId: string | undefined;

  const storedModels = () => {
    const dir = join(userDataDir, 'User', 'globalStorage', 'moe-lens.moe-lens', 'models');
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  it('a checkpoint the importer refuses: an error naming the file and the field, nothing stored', async () => {
    await wb.runCommand('MoE Lens: Import Hugging Face Model…');
    await pickFolder(broken);
    await wb.pick('float32', PRECISION);
    const text = await toast('cannot import');
    log(text.split('\n')[0]);
    assert.match(text, /config\.json \(architectures\)/);
    assert.match(text, /JambaForCausalLM/);
    await wb.screenshot('refused');
    assert.deepEqual(storedModels(), []);
    await wb.page.keyboard.press('Escape');
  });

  it('imports through the palette and the folder picker, then "Use This Model" makes the hover show its experts', async () => {
    await wb.page.evaluate(() => document.querySelectorAll('.notifications-toasts .codicon-notifications-clear').forEach((b) => (b as HTMLElement).click()));
    await wb.runCommand('MoE Lens: Import Hugging Face Model…');
    await pickFolder(hf);
    await wb.pick('int8', PRECISION); // the quantised path, as a user with a real-size model takes it
    const done = await toast(`imported ${MODEL}`);
    log(done.split('\n')[0]);
    assert.match(done, /Qwen3MoeForCausalLM, 3 layers \(2 with 8 experts, top-2\), 80 tensors/);
    await wb.screenshot('imported');
    assert.deepEqual(storedModels(), [MODEL], 'one complete model folder, no staging folder');
    await wb.page.click('.notifications-toasts .notification-toast .monaco-button:has-text("Use This Model")');
    const status = await until('the imported model in the status bar', async () => {
      const t = await wb.status();
      return t.includes(MODEL) && / · cpu/.test(t) ? t : undefined;
    });
    assert.match(status, / · int8\b/, 'the status bar names the quantisation');
    log(`status bar: ${status}`);
    // A machine-overridable setting written at the Global target lands in the user settings of the machine the
    // extension runs on: in a remote window (code-server) that is Machine/settings.json ("User (Remote)").
    const settingsOf = (scope: string) => {
      const f = join(userDataDir, scope, 'settings.json');
      return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>)['moeLens.modelPath'] : undefined;
    };
    const where = ['Machine', 'User'].map((scope) => [scope, settingsOf(scope)] as const).filter(([, v]) => v !== undefined);
    log(`moeLens.modelPath set in ${where.map(([scope, v]) => `${scope}/settings.json = ${String(v)}`).join('; ')}`);
    assert.equal(where.length, 1, 'set once, in the user settings');
    assert.ok(!existsSync(join(workspace, '.vscode', 'settings.json')), 'the workspace settings are left alone');
    assert.match(String(where[0][1]), new RegExp(`globalStorage[\\\\/]moe-lens\\.moe-lens[\\\\/]models[\\\\/]${MODEL}$`));
    await wb.openFile('fib.py');
    const hover = await wb.hover('def fib', 'fib');
    const rows = hoverRows(hover);
    log(hover.split('\n')[0]);
    qwenTokenId = tokenId(hover);
    // the imported model: 2 router layers (decoder layer 1 is dense), 8 experts, top-2 — the embedded one has 4 × 16
    assert.deepEqual([...rows.keys()], [0, 1], `two router layers:\n${hover}`);
    assert.ok(hover.includes(`(max ${Math.log(8).toFixed(2)})`), `the entropy scale of 8 experts:\n${hover}`);
    for (const [l, r] of rows) {
      assert.equal(r.experts.length, 2, `layer ${l}: top-2\n${hover}`);
      assert.ok(r.experts.every((e) => Number(e.slice(1)) < 8), `layer ${l}: experts of 8\n${hover}`);
    }
    await wb.screenshot('hover');
  });

  it('imports a DeepSeek-V3 checkpoint (latent attention, grouped sigmoid router) and hovers its experts', async () => {
    await wb.page.evaluate(() => document.querySelectorAll('.notifications-toasts .codicon-notifications-clear').forEach((b) => (b as HTMLElement).click()));
    await wb.runCommand('MoE Lens: Import Hugging Face Model…');
    await pickFolder(deepseek);
    await wb.pick('float32', PRECISION);
    const done = await toast(`imported ${DEEPSEEK}`);
    log(done.split('\n')[0]);
    assert.match(done, /DeepseekV3ForCausalLM, 3 layers \(2 with 8 experts, top-2\)/);
    await wb.page.click('.notifications-toasts .notification-toast .monaco-button:has-text("Use This Model")');
    await until('the DeepSeek model in the status bar', async () => (await wb.status()).includes(DEEPSEEK));
    await wb.openFile('fib.py');
    // the same token under DeepSeek-V3's own tokenizer has another id than under Qwen3's: the hover is the new model's
    const hover = await until('a hover from the DeepSeek-V3 model', async () => {
      const h = await wb.hover('def fib', 'fib');
      return tokenId(h) !== undefined && tokenId(h) !== qwenTokenId ? h : undefined;
    });
    const rows = hoverRows(hover);
    log(hover.split('\n')[0]);
    assert.deepEqual([...rows.keys()], [0, 1], `two router layers (decoder layer 0 is dense):\n${hover}`);
    for (const [l, r] of rows) {
      assert.equal(r.experts.length, 2, `layer ${l}: top-2\n${hover}`);
      assert.ok(r.experts.every((e) => Number(e.slice(1)) < 8), `layer ${l}: experts of 8\n${hover}`);
    }
    await wb.screenshot('hover-deepseek');
  });

  it('"MoE Lens: Select Model…" lists the imported model beside the embedded one', async () => {
    await wb.runCommand('MoE Lens: Select Model…');
    const labels = await until('the model quick pick', () => wb.page.evaluate(() => {
      if (document.querySelector('.quick-input-widget .quick-input-title')?.textContent?.trim() !== 'MoE Lens: model') return undefined;
      const rows = [...document.querySelectorAll('.quick-input-widget .quick-input-list .monaco-list-row .label-name')].filter((e) => (e as HTMLElement).checkVisibility()).map((e) => e.textContent?.trim() ?? '');
      return rows.length >= 3 ? rows : undefined;
    }));
    log(`Select Model: ${labels.join(' | ')}`);
    assert.ok(labels.includes('Embedded model'));
    assert.ok(labels.some((l) => l.endsWith(MODEL)), labels.join(' | '));
    assert.ok(labels.some((l) => l.endsWith(DEEPSEEK)), labels.join(' | '));
    assert.ok(labels.includes('Import a Hugging Face model…'));
    await wb.screenshot('select-model');
    await wb.page.keyboard.press('Escape');
  });
});

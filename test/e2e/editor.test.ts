// MoE Lens as a user meets it: the packaged .vsix installed into code-server, a copy of samples/ opened, and
// Chromium driving the workbench — Quick Open, hover, command palette, the Experts view, the routing panel, the
// status bar — plus a crash of the language server in the middle.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import {
  buildVsix, cleanup, copySamples, extensionColours, hoverRows, launchBrowser, log, resultsDir, scripts, serverPids, tempDir, until, Workbench,
  type CodeServer, type Deco,
} from './harness';

describe('MoE Lens in code-server (installed from the .vsix)', function () {
  this.timeout(600000);
  let tmp: string | undefined;
  let cs: CodeServer | undefined;
  let browser: Browser | undefined;
  let wb: Workbench;
  let extensionsDir: string;
  let colours: Map<string, [number, number, number, number]>;
  let manifest: { name: string; layers: number; experts: number };
  const expertColours = () => new Map([...colours].filter(([id]) => /^moeLens\.expert\d+$/.test(id)));
  // The categorical palette has 16 colours (expert e → moeLens.expert{e mod 16}); the embedded model has 16 experts.
  const colourOf = (e: number, experts: number) => { assert.ok(experts <= 16, 'colour checks need ≤ 16 experts'); return `moeLens.expert${e % 16}`; };
  let disabledFromPalette = -1;
  let disabledFromTree = -1;

  before(async function () {
    this.timeout(1800000); // a first run installs code-server (minutes)
    const s = await scripts();
    const t0 = Date.now();
    for (const f of existsSync(resultsDir) ? readdirSync(resultsDir) : []) if (f.startsWith('editor-')) rmSync(join(resultsDir, f));
    s.installCodeServer({ log });
    tmp = tempDir('e2e');
    const vsix = buildVsix(tmp);
    const userDataDir = join(tmp, 'user-data');
    extensionsDir = join(tmp, 'extensions');
    const out = s.installExtension(vsix, { extensionsDir, userDataDir, log });
    log(out.split('\n').filter((l) => /installed/i.test(l)).join(' '));
    const installed = readdirSync(extensionsDir).find((d) => d.startsWith('moe-lens.moe-lens-'));
    assert.ok(installed, `no moe-lens.moe-lens-* in ${extensionsDir}: ${readdirSync(extensionsDir).join(', ')}`);
    const extDir = join(extensionsDir, installed);
    colours = extensionColours(join(extDir, 'package.json'));
    manifest = JSON.parse(readFileSync(join(extDir, 'media', 'model', 'moe.json'), 'utf8'));
    const workspace = copySamples(tmp);
    cs = await s.startCodeServer({
      userDataDir, extensionsDir, log,
      settings: { 'workbench.secondarySideBar.defaultVisibility': 'hidden', 'moeLens.heatmap.metric': 'expert', 'moeLens.heatmap.layer': 0 },
    });
    log(`code-server on ${cs.url} (ready ${((Date.now() - t0) / 1000).toFixed(0)} s after start of before())`);
    browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    wb = new Workbench(page, 'editor');
    await wb.open(s.workbenchUrl(cs.url, { folder: workspace }));
  });

  after(async function () {
    await browser?.close().catch(() => undefined);
    if (this.currentTest?.state === 'failed' && cs) console.log(cs.output().split('\n').slice(-40).join('\n'));
    await cs?.stop();
    cleanup(tmp);
  });

  afterEach(async function () {
    // Keystrokes meant for a quick pick must never land in the document.
    if (this.currentTest?.state === 'passed' && wb && (await wb.page.$('.tab.dirty'))) {
      await wb.screenshot('modified-document');
      throw new Error(`a document was modified during "${this.currentTest.title}": keystrokes reached the editor`);
    }
    if (this.currentTest?.state === 'failed' && wb) await wb.screenshot(`failed-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 40)}`).catch(() => undefined);
  });

  let before0: Deco[] = [];
  it('opens a sample with Quick Open and paints the expert heatmap', async () => {
    await wb.openFile('fib.py');
    before0 = await until('heatmap decorations in the editor', async () => {
      const d = await wb.decorations(expertColours());
      return d.length >= 20 ? d : undefined;
    });
    const distinct = new Set(before0.map((d) => d.colour));
    log(`${before0.length} decorated spans, ${distinct.size} expert colours`);
    assert.ok(distinct.size >= 2, `one colour for every token: ${[...distinct]}`);
    await wb.screenshot('heatmap');
  });

  it('shows the model and the execution provider in the status bar', async () => {
    const text = await until('a ready status bar item', async () => {
      const t = await wb.status();
      return t.includes(manifest.name) ? t : undefined;
    });
    log(`status bar: ${text}`);
    assert.match(text, /· (cpu|cuda|webgpu)\b/);
    assert.match(text, /\d+ tok/);
  });

  let hover0 = '';
  it('hovering a token lists the heatmap layer with its experts, and links to all layers', async () => {
    hover0 = await wb.hover('def fib', 'fib');
    const rows = hoverRows(hover0);
    log(hover0.split('\n')[0]);
    assert.deepEqual([...rows.keys()], [0], `compact: the heatmap's layer only:\n${hover0}`);
    assert.match(hover0, new RegExp(`1 of ${manifest.layers} layers`));
    for (const [l, r] of rows) assert.ok(r.experts.length >= 1, `layer ${l} without experts:\n${hover0}`);
    assert.ok(!/unsteered/.test(hover0), 'no steering yet');
    await wb.screenshot('hover');
  });

  it('"MoE Lens: Disable Expert…" from the command palette repaints the heatmap and changes the hover', async () => {
    const top1 = Number(hoverRows(hover0).get(0)!.experts[0].slice(1));
    disabledFromPalette = top1;
    const colour = colourOf(top1, manifest.experts);
    assert.ok(before0.some((d) => d.colour === colour), `expert ${top1} (${colour}) is top-1 somewhere before`);
    await wb.runCommand('MoE Lens: Disable Expert…');
    await wb.pick('Layer 0', 'MoE Lens: layer');
    await wb.pick(`Expert ${top1}`, 'MoE Lens: expert (layer 0)');
    const after = await until(`a heatmap without ${colour}`, async () => {
      const d = await wb.decorations(expertColours());
      return d.length >= 20 && !d.some((x) => x.colour === colour) ? d : undefined;
    });
    log(`expert ${top1} disabled at layer 0: ${before0.filter((d) => d.colour === colour).length} spans repainted, ${after.length} spans now`);
    await until('the status bar counting 1 steering rule', async () => /1 steering rule\b/.test(await wb.status()));
    const hover = await wb.hover('def fib', 'fib', /unsteered/);
    const row = hoverRows(hover).get(0)!;
    assert.ok(!row.experts.includes(`E${top1}`), `E${top1} still chosen at layer 0:\n${hover}`);
    assert.ok(row.unsteered?.includes(`E${top1}`), `the unsteered column lacks E${top1}:\n${hover}`);
    await wb.screenshot('disabled-expert');
  });

  it('the Experts view shows the rule as an unchecked box, and its checkboxes steer', async () => {
    await wb.page.keyboard.press('Escape');
    await wb.page.click('.activitybar [aria-label="MoE Lens"]');
    const row = (l: number, e: number) => `.monaco-list-row[aria-label^="Layer ${l}, expert ${e}:"]`;
    await wb.page.waitForSelector(row(0, disabledFromPalette));
    const box = (l: number, e: number) => `${row(l, e)} .monaco-checkbox`;
    // The view redraws when routing or steering changes; a click that lands during a redraw can be lost (the box
    // flips, then the redraw puts it back). The box must hold the new state for 2 s; otherwise the click is repeated.
    const toggle = async (l: number, e: number, checked: boolean) => {
      const want = String(checked);
      for (let attempt = 0; ; attempt++) {
        await wb.page.click(box(l, e));
        let since = 0;
        const held = await until(`expert ${e} ${checked ? 'checked' : 'unchecked'} for 2 s`, async () => {
          if ((await wb.page.getAttribute(box(l, e), 'aria-checked')) !== want) return (since = 0), false;
          since ||= Date.now();
          return Date.now() - since >= 2000;
        }, 15000).catch(() => false);
        if (held || attempt === 3) return;
        log(`click on expert ${e} lost in a redraw: clicking again`);
      }
    };
    assert.equal(await wb.page.getAttribute(box(0, disabledFromPalette), 'aria-checked'), 'false');
    // Re-enable it from the tree: no rule left.
    await toggle(0, disabledFromPalette, true);
    await until('no steering rule in the status bar', async () => !/steering rule/.test(await wb.status()) && (await wb.status()).includes(manifest.name));
    await until('the expert colour back in the heatmap', async () => (await wb.decorations(expertColours())).some((d) => d.colour === colourOf(disabledFromPalette, manifest.experts)));
    // Disable the most used other expert of layer 0 from the tree.
    const shares = await until('expert rows with their usage', async () => {
      const rows = await wb.page.evaluate(() => [...document.querySelectorAll('.monaco-list-row[aria-label^="Layer 0, expert "]')].map((r) => {
        const m = /expert (\d+): ([\d.]+)% of tokens, top-\d/.exec(r.getAttribute('aria-label') ?? '');
        return m ? [Number(m[1]), Number(m[2])] as [number, number] : undefined;
      }).filter((x): x is [number, number] => !!x));
      return rows.length >= 2 ? rows : undefined;
    });
    const [busiest] = shares.filter(([e]) => e !== disabledFromPalette).sort((a, b) => b[1] - a[1]);
    assert.ok(busiest, `no expert rows with usage: ${JSON.stringify(shares)}`);
    disabledFromTree = busiest[0];
    await toggle(0, disabledFromTree, false);
    await until('1 steering rule after unchecking', async () => /1 steering rule\b/.test(await wb.status()));
    await until(`no expert ${disabledFromTree} colour left in the heatmap`, async () => {
      const d = await wb.decorations(expertColours());
      return d.length >= 20 && !d.some((x) => x.colour === colourOf(disabledFromTree, manifest.experts));
    });
    assert.equal(await wb.page.getAttribute(box(0, disabledFromTree), 'aria-checked'), 'false');
    log(`tree: re-enabled E${disabledFromPalette}, disabled E${disabledFromTree} (${busiest[1]}% of tokens) at layer 0`);
    await wb.screenshot('experts-view');
  });

  it('"MoE Lens: Show Routing Panel" renders a Plotly heatmap in the webview', async () => {
    await wb.runCommand('MoE Lens: Show Routing Panel');
    const frame = await until('a webview frame with a Plotly svg', async () => {
      for (const f of wb.page.frames()) {
        if (f === wb.page.mainFrame()) continue;
        const n = await f.evaluate(() => document.querySelectorAll('svg.main-svg .heatmaplayer, svg.main-svg .hm, svg.main-svg image').length).catch(() => 0);
        if (n > 0) return f;
      }
      return undefined;
    });
    const info = await frame.evaluate(() => ({ svgs: document.querySelectorAll('svg.main-svg').length, title: document.querySelector('.gtitle')?.textContent ?? '' }));
    log(`webview: ${info.svgs} Plotly svg layers, title "${info.title}"`);
    assert.ok(info.svgs >= 1);
    await wb.screenshot('routing-panel');
  });

  it('when the language server dies it comes back, with the steering intact', async () => {
    const pids = serverPids(extensionsDir);
    assert.equal(pids.length, 1, `one server process under ${extensionsDir}: ${pids}`);
    log(`killing the server (pid ${pids[0]})`);
    process.kill(pids[0], 'SIGKILL');
    const again = await until('a new server process', () => {
      const p = serverPids(extensionsDir);
      return p.length === 1 && p[0] !== pids[0] ? p : undefined;
    });
    log(`server back as pid ${again[0]}`);
    await until('the status bar ready again with the rule', async () => {
      const t = await wb.status();
      return t.includes(manifest.name) && /1 steering rule\b/.test(t);
    });
    await wb.openFile('fib.py');
    const hover = await wb.hover('def fib', 'fib', /unsteered/);
    assert.ok(!hoverRows(hover).get(0)!.experts.includes(`E${disabledFromTree}`), `E${disabledFromTree} chosen again after the restart:\n${hover}`);
    const d = await wb.decorations(expertColours());
    assert.ok(d.length >= 20 && !d.some((x) => x.colour === colourOf(disabledFromTree, manifest.experts)), 'the heatmap still reflects the rule');
    await wb.screenshot('after-server-restart');
  });

  it('"MoE Lens: Compare Continuation" shows baseline and steered continuations in a diff editor', async () => {
    await wb.openFile('fib.py');
    await wb.page.keyboard.press('Control+End'); // the prompt is the whole file
    await wb.runCommand('MoE Lens: Compare Continuation (steered vs baseline)');
    await wb.page.waitForSelector('.tab[aria-label*="baseline ↔ steered"]');
    // Both sides fill in as tokens stream; the editor shows the two continuations side by side.
    const sides = await until('two non-empty continuations in the diff editor', () => wb.page.evaluate(() => {
      const text = (sel: string) => (document.querySelector(sel) as HTMLElement | null)?.innerText.trim() ?? '';
      const left = text('.monaco-diff-editor .editor.original .view-lines');
      const right = text('.monaco-diff-editor .editor.modified .view-lines');
      return left && right ? { left, right } : undefined;
    }));
    log(`baseline: ${JSON.stringify(sides.left.slice(0, 60))}  steered: ${JSON.stringify(sides.right.slice(0, 60))}`);
    await until('the generation to finish', async () => !(await wb.page.$('.notifications-toasts .monaco-progress-container.active')));
    await wb.screenshot('compare-continuation');
  });
});

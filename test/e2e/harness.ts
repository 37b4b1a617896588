// A real editor for the end-to-end tests: code-server (scripts/install-code-server.mjs installs it on demand) with
// MoE Lens installed from the .vsix or loaded from this checkout, driven by Chromium through playwright-core the way a
// person would use it: keyboard, mouse, what is on screen.
import { execFileSync, execSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const repoRoot = process.cwd(); // tests run from the repository root (npm test)
export const resultsDir = join(repoRoot, 'test-results', 'e2e');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface CodeServer {
  url: string;
  port: number;
  process: import('node:child_process').ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** The scripts are ES modules shared with `npm start`; load them at run time (not bundled). */
type Scripts = {
  installCodeServer(o?: { log?: (l: string) => void }): { nodeBin: string; codeServerBin: string };
  startCodeServer(o: Record<string, unknown>): Promise<CodeServer>;
  installExtension(vsix: string, o: { extensionsDir: string; userDataDir: string; log?: (l: string) => void }): string;
  workbenchUrl(base: string, o: { folder?: string; extensionDevelopmentPath?: string; extensionTestsPath?: string }): string;
};
export async function scripts(): Promise<Scripts> {
  return (await import(pathToFileURL(join(repoRoot, 'scripts', 'code-server.mjs')).href)) as Scripts;
}

export const log = (msg: string) => console.log(`      · ${msg}`);

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `moe-lens-${prefix}-`));
}

/** Builds the .vsix with `npm run package` (scripts/package.mjs) into dir; returns its path. */
export function buildVsix(dir: string): string {
  const out = join(dir, 'moe-lens.vsix');
  const t0 = Date.now();
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'package.mjs'), '--out', out], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  log(`packaged ${out} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return out;
}

/** A copy of samples/ to open as the workspace (tests never touch the originals). */
export function copySamples(dir: string): string {
  const ws = join(dir, 'samples');
  cpSync(join(repoRoot, 'samples'), ws, { recursive: true });
  return ws;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export async function until<T>(what: string, f: () => Promise<T | undefined | false> | T | undefined | false, ms = 120000, every = 250): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** "#rrggbbaa" → [r, g, b, a] as the browser computes it. */
export function hexToRgba(hex: string): [number, number, number, number] {
  const h = hex.replace('#', '');
  const n = (i: number) => parseInt(h.slice(i, i + 2), 16);
  return [n(0), n(2), n(4), h.length >= 8 ? n(6) / 255 : 1];
}

/** The extension's heatmap colours for the dark theme, from its manifest: id → rgba. */
export function extensionColours(manifestPath: string): Map<string, [number, number, number, number]> {
  const pkg = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const m = new Map<string, [number, number, number, number]>();
  for (const c of pkg.contributes.colors as { id: string; defaults: { dark: string } }[]) if (c.id.startsWith('moeLens.')) m.set(c.id, hexToRgba(c.defaults.dark));
  return m;
}

export interface Deco { top: number; left: number; width: number; colour: string }

/** Pids of MoE Lens language servers started from extensions under dir (from ps). */
export function serverPids(dir: string): number[] {
  return execSync('ps -eo pid=,args=', { encoding: 'utf8' }).split('\n')
    .filter((l) => l.includes(join('dist', 'server.js')) && l.includes(resolve(dir)))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** The workbench page, with the gestures the tests need. */
export class Workbench {
  private shots = 0;
  constructor(readonly page: Page, readonly name: string) {}

  async open(url: string): Promise<void> {
    this.page.setDefaultTimeout(120000);
    await this.page.goto(url);
    await this.page.waitForSelector('.monaco-workbench .part.editor', { timeout: 180000 });
    await this.page.waitForSelector('.statusbar', { timeout: 180000 });
  }

  async screenshot(label: string): Promise<string> {
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `${this.name}-${String(++this.shots).padStart(2, '0')}-${label}.png`);
    await this.page.screenshot({ path: file });
    log(`screenshot ${file.slice(repoRoot.length + 1)}`);
    return file;
  }

  private async quickInputOpen(): Promise<void> {
    await this.page.waitForSelector('.quick-input-widget:not([style*="display: none"]) .quick-input-box input', { state: 'visible' });
  }

  /**
   * Types into the open quick input, waits for a row labelled exactly `label`, focuses it and accepts it. With
   * `title`, first waits for the quick pick with that title (a command's second pick opens a moment after the first
   * closes: typing earlier would go into the editor).
   */
  async pick(label: string, title?: string): Promise<void> {
    await this.quickInputOpen();
    if (title !== undefined) {
      await until(`the quick pick "${title}"`, () => this.page.evaluate((t) => {
        const w = document.querySelector('.quick-input-widget') as HTMLElement | null;
        const shown = w && w.style.display !== 'none' && w.querySelector('.quick-input-title')?.textContent?.trim() === t;
        return shown && (w.querySelector('.quick-input-box input') as HTMLInputElement).value === '';
      }, title));
    }
    const typed = label;
    await this.page.keyboard.type(typed, { delay: 20 });
    const rows = '.quick-input-widget .quick-input-list .monaco-list-row';
    await until(`quick pick row "${label}"`, () => this.page.evaluate(([sel, want]) => [...document.querySelectorAll(sel)].some((r) => r.querySelector('.label-name')?.textContent?.trim() === want), [rows, label] as const));
    for (let i = 0; i < 40; i++) {
      const focused = await this.page.evaluate((sel) => document.querySelector(`${sel}.focused .label-name`)?.textContent?.trim(), rows);
      if (focused === label) {
        await this.page.keyboard.press('Enter');
        return;
      }
      await this.page.keyboard.press('ArrowDown');
    }
    throw new Error(`could not focus quick pick row "${label}"`);
  }

  /** Command palette: F1, type the title, run it. */
  async runCommand(title: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    await this.pick(title);
  }

  /** Quick Open (Ctrl+P) a file of the workspace and wait for its editor. */
  async openFile(file: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Control+P');
    await this.pick(file);
    await this.page.waitForSelector(`.tab.active[aria-label^="${file}"]`);
    await this.page.waitForSelector('.editor-instance .view-lines .view-line');
  }

  /** Background decorations in the active editor whose colour is one of `colours` (id → rgba). */
  async decorations(colours: Map<string, [number, number, number, number]>): Promise<Deco[]> {
    const raw = await this.page.evaluate(() => [...document.querySelectorAll('.editor-group-container.active .editor-instance .view-overlays > div > div.cdr')].map((e) => {
      const el = e as HTMLElement;
      return { top: parseFloat((el.parentElement as HTMLElement).style.top), left: parseFloat(el.style.left), width: parseFloat(el.style.width), bg: getComputedStyle(el).backgroundColor };
    }));
    const out: Deco[] = [];
    for (const d of raw) {
      const m = /rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)/.exec(d.bg);
      if (!m || d.width <= 0) continue;
      const v = [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])];
      for (const [id, c] of colours) {
        if (c.slice(0, 3).every((x, i) => x === v[i]) && Math.abs(c[3] - v[3]) < 0.01) {
          out.push({ top: d.top, left: d.left, width: d.width, colour: id });
          break;
        }
      }
    }
    return out;
  }

  /**
   * Moves the mouse onto `token` in the first line that starts with `lineStart`; returns the hover's text. `root`:
   * where the editor's lines are — a notebook's cells are in an overlay outside the editor group (".notebook-editor").
   */
  async hover(lineStart: string, token: string, mustMatch = /layer/, root = '.editor-group-container.active'): Promise<string> {
    await this.page.keyboard.press('Escape');
    await this.page.mouse.move(5, 5);
    await this.page.waitForSelector('.monaco-hover:not(.hidden)', { state: 'detached', timeout: 10000 }).catch(() => undefined);
    const box = await this.page.evaluate(([start, tok, where]) => {
      const lines = [...document.querySelectorAll(`${where} .view-lines .view-line`)];
      const line = lines.find((l) => (l.textContent ?? '').replace(/\u00a0/g, ' ').trimStart().startsWith(start));
      if (!line) return undefined;
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const i = (n.textContent ?? '').replace(/\u00a0/g, ' ').indexOf(tok);
        if (i < 0) continue;
        const r = document.createRange();
        r.setStart(n, i);
        r.setEnd(n, i + tok.length);
        const b = r.getBoundingClientRect();
        return { x: b.x + Math.min(b.width / 2, 4), y: b.y + b.height / 2 };
      }
      return undefined;
    }, [lineStart, token, root] as const);
    if (!box) throw new Error(`no "${token}" in a line starting with "${lineStart}" on screen`);
    await this.page.mouse.move(box.x - 1, box.y);
    await this.page.mouse.move(box.x, box.y, { steps: 3 });
    return until('the MoE Lens hover', async () => {
      const text = await this.page.evaluate(() => [...document.querySelectorAll('.monaco-hover:not(.hidden)')].map((h) => (h as HTMLElement).innerText).join('\n'));
      return text.includes('MoE Lens') && mustMatch.test(text) ? text : undefined;
    }, 60000);
  }

  /** Text of the MoE Lens status bar item. */
  async status(): Promise<string> {
    return this.page.evaluate(() => (document.querySelector('[id="moe-lens.moe-lens.moeLens.status"]') as HTMLElement | null)?.innerText.trim() ?? '');
  }
}

/** Rows of the hover's table: layer → { experts: ["E3", …] in order, unsteered?: ["E5", …] }. */
export function hoverRows(text: string): Map<number, { experts: string[]; unsteered?: string[] }> {
  const steered = /unsteered/.test(text);
  const rows = new Map<number, { experts: string[]; unsteered?: string[] }>();
  for (const line of text.split('\n')) {
    const cells = line.split('\t').map((c) => c.trim());
    if (cells.length < 3 || !/^\d+$/.test(cells[0])) continue;
    rows.set(Number(cells[0]), { experts: cells[1].match(/E\d+/g) ?? [], unsteered: steered ? cells[2].match(/E\d+/g) ?? [] : undefined });
  }
  return rows;
}

export function cleanup(dir: string | undefined): void {
  if (dir && !process.env.MOE_LENS_KEEP_E2E) rmSync(dir, { recursive: true, force: true });
}

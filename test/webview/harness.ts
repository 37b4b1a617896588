// Serves the routing panel exactly as the extension builds it (panelHtml + dist/webview.js + media css) on
// 127.0.0.1 and drives it in Chromium. The only stand-in is acquireVsCodeApi, which VS Code injects into every
// webview: here it records what the panel posts and keeps its state.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RoutingResult } from '../../common/protocol';
import type { HostMessage, WebviewMessage } from '../../common/webviewMessages';
import { panelHtml } from '../../extension/panel/panelHtml';

const root = process.cwd(); // tests run from the repository root
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json' };

export interface Fixture {
  source: string;
  text: string;
  result: RoutingResult;
}

export function loadFixture(lang: 'python' | 'typescript'): Fixture {
  return JSON.parse(readFileSync(join(root, 'test', 'fixtures', `routing-${lang}.json`), 'utf8')) as Fixture;
}

export function tokenTexts(text: string, r: RoutingResult): string[] {
  return Array.from({ length: r.tokens }, (_, t) => text.slice(r.offsets[2 * t], r.offsets[2 * t + 1]));
}

export function routingMessage(f: Fixture, uri = `file:///project/${f.source}`): HostMessage {
  return { type: 'routing', uri, fileName: f.source, result: f.result, tokenTexts: tokenTexts(f.text, f.result) };
}

/** A long document: the recorded routing repeated until it has at least `min` tokens (offsets shifted per copy). */
export function tiled(f: Fixture, min: number): Fixture {
  const copies = Math.ceil(min / f.result.tokens);
  const r = f.result;
  const shift = (a: number[], by: (i: number) => number) => Array.from({ length: copies }, (_, c) => a.map((v) => v + by(c))).flat();
  const result: RoutingResult = {
    ...r,
    tokens: r.tokens * copies,
    offsets: shift(r.offsets, (c) => c * f.text.length),
    ids: shift(r.ids, () => 0),
    experts: shift(r.experts, () => 0),
    weights: shift(r.weights, () => 0),
    entropy: shift(r.entropy, () => 0),
    surprisal: shift(r.surprisal, () => 0),
  };
  return { source: `tiled-${f.source}`, text: f.text.repeat(copies), result };
}

/** VS Code's theme variables for two of its default themes (the subset the panel and its controls read). */
export const THEMES = {
  light: {
    bodyClass: 'vscode-light',
    vars: {
      '--vscode-editor-background': '#ffffff', '--vscode-foreground': '#3b3b3b', '--vscode-descriptionForeground': '#717171', '--vscode-editorWidget-border': '#c8c8c8',
      '--vscode-editorWidget-background': '#f8f8f8', '--vscode-charts-blue': '#1a85ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-red': '#e51400',
      '--vscode-charts-green': '#388a34', '--vscode-focusBorder': '#005fb8', '--vscode-list-hoverBackground': '#f2f2f2', '--vscode-font-family': 'system-ui, sans-serif',
      '--vscode-font-size': '13px', '--vscode-button-background': '#005fb8', '--vscode-button-foreground': '#ffffff', '--vscode-button-secondaryBackground': '#e5e5e5',
      '--vscode-button-secondaryForeground': '#3b3b3b', '--vscode-dropdown-background': '#ffffff', '--vscode-dropdown-foreground': '#3b3b3b', '--vscode-dropdown-border': '#cecece',
      '--vscode-widget-shadow': 'rgba(0,0,0,0.16)', '--vscode-settings-dropdownBackground': '#ffffff', '--vscode-settings-dropdownForeground': '#3b3b3b',
      '--vscode-settings-dropdownBorder': '#cecece', '--vscode-settings-dropdownListBorder': '#c8c8c8', '--vscode-list-activeSelectionBackground': '#e8e8e8',
      '--vscode-list-activeSelectionForeground': '#000000', '--vscode-button-hoverBackground': '#0258a8', '--vscode-button-secondaryHoverBackground': '#cccccc', '--vscode-moeLens-expert0': '#e6194b55',
    },
  },
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      '--vscode-editor-background': '#1f1f1f', '--vscode-foreground': '#cccccc', '--vscode-descriptionForeground': '#9d9d9d', '--vscode-editorWidget-border': '#454545',
      '--vscode-editorWidget-background': '#202020', '--vscode-charts-blue': '#3794ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-green': '#89d185', '--vscode-focusBorder': '#0078d4', '--vscode-list-hoverBackground': '#2a2d2e', '--vscode-font-family': 'system-ui, sans-serif',
      '--vscode-font-size': '13px', '--vscode-button-background': '#0078d4', '--vscode-button-foreground': '#ffffff', '--vscode-button-secondaryBackground': '#313131',
      '--vscode-button-secondaryForeground': '#cccccc', '--vscode-dropdown-background': '#313131', '--vscode-dropdown-foreground': '#cccccc', '--vscode-dropdown-border': '#3c3c3c',
      '--vscode-widget-shadow': 'rgba(0,0,0,0.36)', '--vscode-settings-dropdownBackground': '#313131', '--vscode-settings-dropdownForeground': '#cccccc',
      '--vscode-settings-dropdownBorder': '#3c3c3c', '--vscode-settings-dropdownListBorder': '#454545', '--vscode-list-activeSelectionBackground': '#04395e',
      '--vscode-list-activeSelectionForeground': '#ffffff', '--vscode-button-hoverBackground': '#026ec1', '--vscode-button-secondaryHoverBackground': '#3c3c3c', '--vscode-moeLens-expert0': '#e6194b66',
    },
  },
  'high-contrast': {
    bodyClass: 'vscode-high-contrast',
    vars: {
      '--vscode-editor-background': '#000000', '--vscode-foreground': '#ffffff', '--vscode-descriptionForeground': '#ffffffb3', '--vscode-contrastBorder': '#6fc3df',
      '--vscode-editorWidget-background': '#0c141f', '--vscode-charts-blue': '#3794ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-green': '#89d185', '--vscode-focusBorder': '#f38518', '--vscode-font-family': 'system-ui, sans-serif', '--vscode-font-size': '13px',
      '--vscode-button-background': '#000000', '--vscode-button-foreground': '#ffffff', '--vscode-button-border': '#6fc3df', '--vscode-button-secondaryBackground': '#000000',
      '--vscode-button-secondaryForeground': '#ffffff', '--vscode-settings-dropdownBackground': '#000000', '--vscode-settings-dropdownForeground': '#ffffff',
      '--vscode-settings-dropdownBorder': '#6fc3df', '--vscode-settings-dropdownListBorder': '#6fc3df', '--vscode-list-activeSelectionBackground': '#000000',
      '--vscode-list-activeSelectionForeground': '#ffffff', '--vscode-list-focusOutline': '#f38518', '--vscode-moeLens-expert0': '#e6194b99',
    },
  },
} as const;
export type ThemeName = keyof typeof THEMES;

export class PanelHarness {
  private server?: Server;
  private browser?: Browser;
  origin = '';
  page!: Page;
  warnings: string[] = [];
  errors: string[] = [];

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', this.origin);
      if (url.pathname === '/favicon.ico') return void res.writeHead(204).end(); // Chromium asks; VS Code's webviews do not
      if (url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(panelHtml({ cspSource: this.origin, nonce: 'n0nce' + Math.random().toString(36).slice(2), scriptUri: `${this.origin}/dist/webview.js`, styleUri: `${this.origin}/media/webview/panel.css`, codiconUri: `${this.origin}/dist/codicon.css` }));
        return;
      }
      // Only what localResourceRoots allows in the editor: dist/ and media/.
      const rel = normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, '');
      if (!/^(dist|media)\//.test(rel)) return void res.writeHead(404).end();
      try {
        const body = readFileSync(join(root, rel));
        res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream' });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }

  /** A fresh panel in `theme`, with an optional saved state (what vscode.getState returns). */
  async open(theme: ThemeName = 'dark', savedState?: unknown, size = { width: 900, height: 560 }): Promise<Page> {
    if (this.page) await this.page.close();
    this.warnings = [];
    this.errors = [];
    this.page = await this.browser!.newPage({ viewport: size });
    this.page.on('console', (m) => {
      if (m.type() === 'warning') this.warnings.push(m.text());
      if (m.type() === 'error') this.errors.push(m.text());
    });
    this.page.on('pageerror', (e) => this.errors.push(String(e)));
    this.page.on('response', (r) => r.status() >= 400 && this.errors.push(`${r.status()} ${r.url()}`));
    await this.page.addInitScript((saved) => {
      const w = window as unknown as { __posted: unknown[]; __state: unknown };
      w.__posted = [];
      w.__state = saved ?? undefined;
      (window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
        postMessage: (m: unknown) => w.__posted.push(JSON.parse(JSON.stringify(m))),
        getState: () => w.__state,
        setState: (s: unknown) => (w.__state = JSON.parse(JSON.stringify(s))),
      });
    }, savedState);
    await this.page.goto(this.origin + '/');
    await this.setTheme(theme);
    await this.page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'));
    return this.page;
  }

  /** What VS Code does on a theme switch: new variables on <html>, a new class on <body>. */
  async setTheme(name: ThemeName): Promise<void> {
    const t = THEMES[name];
    await this.page.evaluate(({ bodyClass, vars }) => {
      document.documentElement.removeAttribute('style'); // a theme's variables replace the previous theme's, all of them
      for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
      document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast');
      document.body.classList.add(bodyClass);
    }, { bodyClass: t.bodyClass, vars: t.vars as Record<string, string> });
  }

  /** As the extension's webview.postMessage: the page receives a MessageEvent with `data` = the message. */
  async send(m: unknown): Promise<void> {
    await this.page.evaluate((data) => window.postMessage(data, '*'), m as object);
  }

  async posted(): Promise<WebviewMessage[]> {
    return this.page.evaluate(() => (window as unknown as { __posted: WebviewMessage[] }).__posted);
  }

  async clearPosted(): Promise<void> {
    await this.page.evaluate(() => ((window as unknown as { __posted: unknown[] }).__posted = []));
  }

  /** Waits until the chart's first trace satisfies `pred` (Plotly draws asynchronously). */
  /** Polls from node: page.evaluate runs outside the page's CSP, while a string waitForFunction predicate is eval'd
   *  inside the page, which the panel's CSP (no 'unsafe-eval') forbids. */
  async waitForChart(pred = 'true', timeoutMs = 15000): Promise<void> {
    const expr = `(() => { const c = document.getElementById('chart'); const d = c && c.data && c.data[0]; return !!d && (${pred}); })()`;
    const end = Date.now() + timeoutMs;
    while (!(await this.page.evaluate(expr))) {
      if (Date.now() > end) throw new Error(`chart condition not met in ${timeoutMs} ms: ${pred}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async chart<T>(expr: string): Promise<T> {
    return this.page.evaluate(`(() => { const c = document.getElementById('chart'); return ${expr}; })()`) as Promise<T>;
  }

  /** Picks a value in a vscode-single-select as a user would: open it, click the option. */
  async choose(selectId: string, optionText: string): Promise<void> {
    await this.page.locator(`#${selectId}`).click();
    await this.page.locator(`#${selectId}`).getByText(optionText, { exact: true }).last().click();
  }

  /** Viewport coordinates of the centre of a heatmap cell (x and y in data units). */
  async cellPoint(x: number, y: number): Promise<{ x: number; y: number }> {
    return this.page.evaluate(([dx, dy]) => {
      const c = document.getElementById('chart') as unknown as { _fullLayout: { xaxis: { l2p(v: number): number; _offset: number }; yaxis: { l2p(v: number): number; _offset: number } } } & HTMLElement;
      const box = c.getBoundingClientRect();
      const { xaxis, yaxis } = c._fullLayout;
      return { x: box.left + xaxis._offset + xaxis.l2p(dx), y: box.top + yaxis._offset + yaxis.l2p(dy) };
    }, [x, y]);
  }

  async stop(): Promise<void> {
    await this.browser?.close();
    await new Promise((r) => this.server?.close(r));
  }
}

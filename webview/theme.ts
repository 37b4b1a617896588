// Colours for the charts, read from VS Code's theme CSS variables at render time, and again whenever VS Code switches
// theme (it changes the body's class and the variables), so the charts are legible in light, dark and high contrast.

/** Fallback expert hues: the defaults of the moeLens.expert0..15 theme colours the editor heatmap uses. */
const EXPERT_HUES = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#fabed4', '#469990', '#dcbeff', '#9a6324', '#fffac8', '#800000', '#aaffc3', '#808000'];

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface Theme {
  kind: ThemeKind;
  background: string;
  foreground: string;
  muted: string;
  grid: string;
  /** the sequential scales' high end (entropy, gate weight, load) */
  accent: string;
  /** routing change, dead experts, negative ΔP */
  hot: string;
  /** steered experts: disabled / forced */
  disabled: string;
  forced: string;
  font: string;
  fontSize: number;
  /** opaque colour of expert i (the theme's moeLens.expertN without its alpha) */
  experts: string[];
}

export function themeKind(cls: DOMTokenList | string[]): ThemeKind {
  const has = (c: string) => (Array.isArray(cls) ? cls.includes(c) : cls.contains(c));
  if (has('vscode-high-contrast-light')) return 'high-contrast-light';
  if (has('vscode-high-contrast')) return 'high-contrast';
  return has('vscode-light') ? 'light' : 'dark';
}

/** #rrggbbaa / #rgba -> #rrggbb / #rgb: the editor heatmap's colours are translucent, chart cells must be opaque. */
export function opaque(colour: string): string {
  const c = colour.trim();
  if (/^#[0-9a-f]{8}$/i.test(c)) return c.slice(0, 7);
  if (/^#[0-9a-f]{4}$/i.test(c)) return c.slice(0, 4);
  return c;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim() || getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export function readTheme(expertCount = 16): Theme {
  const kind = themeKind(document.body.classList);
  const light = kind === 'light' || kind === 'high-contrast-light';
  const hc = kind.startsWith('high-contrast');
  const foreground = cssVar('--vscode-foreground', light ? '#3b3b3b' : '#cccccc');
  return {
    kind,
    background: cssVar('--vscode-editor-background', light ? '#ffffff' : '#1e1e1e'),
    foreground,
    muted: cssVar('--vscode-descriptionForeground', foreground),
    // High contrast themes draw borders in --vscode-contrastBorder: use it so grid lines stay visible there.
    grid: hc ? cssVar('--vscode-contrastBorder', foreground) : cssVar('--vscode-editorWidget-border', light ? '#c8c8c8' : '#454545'),
    accent: cssVar('--vscode-charts-blue', light ? '#1a85ff' : '#3794ff'),
    hot: cssVar('--vscode-charts-orange', '#d18616'),
    disabled: cssVar('--vscode-charts-red', '#f14c4c'),
    forced: cssVar('--vscode-charts-green', '#89d185'),
    font: cssVar('--vscode-font-family', 'sans-serif'),
    fontSize: parseFloat(cssVar('--vscode-font-size', '13')) || 13,
    experts: Array.from({ length: expertCount }, (_, i) => opaque(cssVar(`--vscode-moeLens-expert${i % 16}`, EXPERT_HUES[i % 16]))),
  };
}

/** A discrete Plotly colourscale for integer values 0..n-1 (each value gets a flat band of its colour). */
export function discreteScale(colours: readonly string[]): [number, string][] {
  const n = colours.length;
  const out: [number, string][] = [];
  for (let i = 0; i < n; i++) out.push([i / n, colours[i]], [(i + 1) / n, colours[i]]);
  return out;
}

/** Calls back (once per animation frame at most) whenever VS Code switches theme. */
export function onThemeChange(cb: () => void): void {
  let queued = false;
  const fire = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      cb();
    });
  };
  const watch = { attributes: true, attributeFilter: ['class', 'style', 'data-vscode-theme-kind'] };
  new MutationObserver(fire).observe(document.body, watch);
  new MutationObserver(fire).observe(document.documentElement, watch);
}

/** A colour at `alpha` opacity for a band's fill: #rgb / #rrggbb become rgba(); anything else is returned as is. */
export function translucent(colour: string, alpha: number): string {
  let c = opaque(colour);
  if (/^#[0-9a-f]{3}$/i.test(c)) c = `#${[...c.slice(1)].map((x) => x + x).join('')}`;
  if (!/^#[0-9a-f]{6}$/i.test(c)) return c;
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  return `rgba(${r},${g},${b},${alpha})`;
}

// The contrastive finder's ranking as two tables: the experts most active on A (disable them to suppress A) and
// those most active on B (force them to push towards B). A row click offers steering that expert.
import type { ContrastiveRow } from '../common/protocol';
import { contrastiveSplit } from './routingViews';

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

function table(caption: string, rows: ContrastiveRow[], side: 'a' | 'b', onPick: (layer: number, expert: number) => void): HTMLTableElement {
  const t = document.createElement('table');
  t.className = `delta-table side-${side}`;
  const cap = t.createCaption();
  cap.textContent = caption;
  const head = t.createTHead().insertRow();
  for (const h of ['#', 'layer', 'expert', 'label', 'P(A)', 'P(B)', 'ΔP']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = t.createTBody();
  const maxAbs = Math.max(1e-9, ...rows.map((r) => Math.abs(r.deltaP)));
  rows.forEach((r, i) => {
    const tr = body.insertRow();
    tr.tabIndex = 0;
    tr.title = `Layer ${r.layer} · Expert ${r.expert}: click to disable, force or reset`;
    tr.dataset.layer = String(r.layer);
    tr.dataset.expert = String(r.expert);
    for (const v of [String(i + 1), String(r.layer), `E${r.expert}`, r.label ?? '', pct(r.pA), pct(r.pB)]) tr.insertCell().textContent = v;
    const d = tr.insertCell();
    d.className = 'delta';
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${Math.round((Math.abs(r.deltaP) / maxAbs) * 100)}%`;
    const num = document.createElement('span');
    num.textContent = `${r.deltaP >= 0 ? '+' : '−'}${Math.abs(r.deltaP).toFixed(3)}`;
    d.append(bar, num);
    const pick = () => onPick(r.layer, r.expert);
    tr.addEventListener('click', pick);
    tr.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && pick());
  });
  return t;
}

export function renderContrastive(el: HTMLElement, rows: readonly ContrastiveRow[], onPick: (layer: number, expert: number) => void): void {
  const { a, b } = contrastiveSplit(rows);
  el.replaceChildren(
    table('More active on A (ΔP > 0): disable to suppress A', a, 'a', onPick),
    table('More active on B (ΔP < 0): force to push towards B', b, 'b', onPick),
  );
}

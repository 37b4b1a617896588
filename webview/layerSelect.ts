// The Layers select of the co-activation view: one option per adjacent pair "l → l+1".

/** Refills `sel` when the model's layer count changed; returns the value to select for `current`. */
export function fillLayerOptions(sel: HTMLElement, layers: number, current: number): string {
  if (sel.childElementCount !== Math.max(0, layers - 1)) {
    sel.replaceChildren();
    for (let l = 0; l + 1 < layers; l++) {
      const o = document.createElement('vscode-option');
      o.setAttribute('value', String(l));
      o.textContent = `${l} → ${l + 1}`;
      sel.appendChild(o);
    }
  }
  return String(Math.max(0, Math.min(current, layers - 2)));
}

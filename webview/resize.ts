// A resized sidebar re-renders the panel: margins, tick steps and the heatmap's scroll depend on the width (fit.ts).
// Height changes and bursts of width changes while the user drags the sash cost one render, after the drag pauses.
export function onWidthChange(then: () => void, quietMs = 120): void {
  let last = document.documentElement.clientWidth;
  let timer: ReturnType<typeof setTimeout> | undefined;
  new ResizeObserver(() => {
    const w = document.documentElement.clientWidth;
    if (w === last) return;
    last = w;
    clearTimeout(timer);
    timer = setTimeout(then, quietMs);
  }).observe(document.body);
}

/** The width a chart may take: its scroll box's (a heatmap wider than that scrolls inside the box), at least 160 px. */
export const boxWidth = (box: HTMLElement): number => Math.max(160, box.clientWidth || document.documentElement.clientWidth - 20);

// Minimal typing for the parts of plotly.js-dist-min the panel uses.
declare module 'plotly.js-dist-min' {
  interface PlotlyHTMLElement extends HTMLElement {
    on(event: 'plotly_click', cb: (e: { points: { x: number | string; y: number | string; z?: number; curveNumber: number; pointNumber: number | number[]; customdata?: unknown }[] }) => void): void;
    data: { z?: unknown; x?: unknown; y?: unknown; type?: string }[];
    layout: Record<string, unknown>;
    removeAllListeners?(event: string): void;
  }
  const Plotly: {
    react(el: HTMLElement, data: unknown[], layout: unknown, config?: unknown): Promise<PlotlyHTMLElement>;
    purge(el: HTMLElement): void;
    Plots: { resize(el: HTMLElement): void };
  };
  export default Plotly;
  export type { PlotlyHTMLElement };
}

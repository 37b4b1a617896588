import { HEATMAP_METRICS, PANEL_METRIC_IDS } from '../../common/heatmapMetrics';

/**
 * The routing panel's HTML. Pure (no vscode import) so the Chromium tests load exactly what the editor loads.
 *
 * CSP: nothing by default; scripts only with the per-load nonce; images and fonts only from the extension.
 * style-src also allows 'unsafe-inline' because Plotly adds its rules with a <style> element at load time
 * (Lib.addStyleRule): without them its hover labels and mode bar lose their layout (plotly.js issues #2355 and
 * #7543: the strict-CSP stylesheet it once shipped is not built any more). Scripts stay nonce-only.
 */
export interface PanelHtmlParts {
  cspSource: string;
  nonce: string;
  /** dist/webview.js */
  scriptUri: string;
  /** media/webview/panel.css */
  styleUri: string;
  /** dist/codicon.css: @vscode-elements looks it up by the id "vscode-codicon-stylesheet" */
  codiconUri: string;
}

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function panelHtml(p: PanelHtmlParts): string {
  const csp = [`default-src 'none'`, `script-src 'nonce-${p.nonce}'`, `style-src ${p.cspSource} 'unsafe-inline'`, `img-src ${p.cspSource} data:`, `font-src ${p.cspSource}`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(p.codiconUri)}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${attr(p.styleUri)}">
<title>MoE Lens: routing</title>
</head>
<body>
<header>
  <div class="controls">
    <label>View <vscode-single-select id="view" aria-label="View">
      <vscode-option value="heatmap">Token × layer heatmap</vscode-option>
      <vscode-option value="load">Layer × expert load</vscode-option>
      <vscode-option value="transitions">Expert co-activation</vscode-option>
      <vscode-option value="contrastive">Contrastive experts (ΔP)</vscode-option>
      <vscode-option value="statistics">Statistics</vscode-option>
      <vscode-option value="pruning">Pruning quality curve</vscode-option>
      <vscode-option value="importance">Expert importance</vscode-option>
      <vscode-option value="offload">Expert offloading</vscode-option>
    </vscode-single-select></label>
    <label id="metric-row">Metric <vscode-single-select id="metric" aria-label="Metric">
${PANEL_METRIC_IDS.map((id) => `      <vscode-option value="${id}">${attr(HEATMAP_METRICS[id].label)}</vscode-option>`).join('\n')}
    </vscode-single-select></label>
    <label id="layer-row" hidden>Layers <vscode-single-select id="layer" aria-label="Layer pair"></vscode-single-select></label>
    <span id="window-row" class="window" hidden>
      <vscode-button id="prev" secondary icon="chevron-left" aria-label="Earlier tokens" title="Earlier tokens"></vscode-button>
      <input id="window-slider" type="range" min="0" max="0" step="1" value="0" aria-label="First token of the window">
      <vscode-button id="next" secondary icon="chevron-right" aria-label="Later tokens" title="Later tokens"></vscode-button>
    </span>
  </div>
  <div id="info" class="info" aria-live="polite"></div>
  <div id="rules" class="info"></div>
</header>
<div id="expert-menu" class="menu" hidden role="dialog" aria-labelledby="expert-menu-title">
  <div id="expert-menu-title"></div>
  <vscode-button id="menu-disable" icon="circle-slash">Disable</vscode-button>
  <vscode-button id="menu-force" icon="pinned">Force</vscode-button>
  <vscode-button id="menu-reset" secondary icon="discard">Reset</vscode-button>
  <vscode-button id="menu-close" secondary icon="close" aria-label="Close" title="Close"></vscode-button>
</div>
<main>
  <div id="chart-scroll" class="chart-scroll"><div id="chart"></div></div>
  <div id="legend" class="legend" hidden aria-label="Experts: click one to steer it"></div>
  <div id="contrastive" class="contrastive" hidden></div>
  <div id="statistics" class="statistics" hidden></div>
  <div id="prune-actions" class="prune-actions" hidden>
    <vscode-button id="prune-apply" icon="circle-slash" title="Disable the pruned experts through steering: try the pruning live, nothing exported">Apply as Steering</vscode-button>
    <vscode-button id="prune-export" secondary icon="package" title="Write a model folder without the pruned experts (the extension's models)">Export Pruned Model…</vscode-button>
    <vscode-button id="prune-use" secondary icon="check" hidden title="Select the exported model">Use Exported Model</vscode-button>
  </div>
  <p id="empty" class="empty" hidden></p>
</main>
<script type="module" nonce="${attr(p.nonce)}" src="${attr(p.scriptUri)}"></script>
</body>
</html>`;
}

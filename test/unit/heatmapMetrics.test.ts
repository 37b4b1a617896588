// The metric registry (common/heatmapMetrics.ts) is the one list of heatmap metrics: the setting in package.json, the
// panel's Metric list and the panel state's validator must say the same.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HEATMAP_METRIC_IDS, HEATMAP_METRICS, HEATMAP_OFF, PANEL_METRIC_IDS, tokenValue } from '../../common/heatmapMetrics';
import type { RoutingResult } from '../../common/protocol';
import { isPanelState } from '../../common/webviewMessages';
import { panelHtml } from '../../extension/panel/panelHtml';
import { repoRoot } from '../support/paths';

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const setting = manifest.contributes.configuration.properties['moeLens.heatmap.metric'];

describe('heatmap metric registry', () => {
  it("package.json's moeLens.heatmap.metric enum is the registry's keys plus off, with the registry's descriptions", () => {
    assert.deepEqual(setting.enum, [...HEATMAP_METRIC_IDS, HEATMAP_OFF.id]);
    assert.deepEqual(setting.enumDescriptions, [...HEATMAP_METRIC_IDS.map((id) => HEATMAP_METRICS[id].setting), HEATMAP_OFF.setting]);
    assert.ok(setting.enum.includes(setting.default));
  });

  it('the panel lists exactly the metrics with a value per (token, layer), and its state accepts only those', () => {
    assert.deepEqual(PANEL_METRIC_IDS, ['expert', 'entropy', 'gate', 'change']);
    const html = panelHtml({ cspSource: 'x', nonce: 'n', scriptUri: 's', styleUri: 'c', codiconUri: 'i' });
    const metricSelect = /<vscode-single-select id="metric"[^>]*>([\s\S]*?)<\/vscode-single-select>/.exec(html)![1];
    assert.deepEqual([...metricSelect.matchAll(/value="([^"]+)"/g)].map((m) => m[1]), PANEL_METRIC_IDS);
    for (const id of HEATMAP_METRIC_IDS) assert.equal(isPanelState({ view: 'heatmap', metric: id, layer: 0, windowStart: 0 }), PANEL_METRIC_IDS.includes(id as never), id);
  });

  it('every metric has a value for its layer use and a non-empty range', () => {
    const r: RoutingResult = {
      model: { name: 'm', layers: 2, experts: 4, topK: 2, executionProvider: 'cpu', contextLength: 8, vocabSize: 10 },
      version: 1, tokens: 1, offsets: [0, 1], ids: [1], experts: [3, 1, 0, 2], weights: [0.9, 0.1, 0.5, 0.5],
      entropy: [0.5, 1], surprisal: [2], steered: true, baselineExperts: [3, 1, 0, 1], windows: 1, truncated: false, elapsedMs: 0,
    };
    const values = Object.fromEntries(HEATMAP_METRIC_IDS.map((id) => [id, tokenValue(HEATMAP_METRICS[id], r, 0, 'mean')]));
    assert.deepEqual(values, { expert: 3, entropy: 0.75, gate: 0.9, surprisal: 2, change: 0.5 });
    for (const id of HEATMAP_METRIC_IDS) {
      const [min, max] = HEATMAP_METRICS[id].range(r.model);
      assert.ok(max > min, id);
    }
  });
});

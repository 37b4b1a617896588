import { cellContextCaption } from '../../common/cellContextCaption';
import { escapeMarkdown } from '../../common/labelText';
import type { HoverSettings, RoutingResult } from '../../common/protocol';
import { hoverLayers } from './hoverLayers';

/** The command a hover's "all layers" / "fewer layers" link runs (the client trusts exactly this one). */
export const TOGGLE_HOVER_LAYERS = 'moeLens.toggleHoverLayers';
import { layerIndex, slotIndex, topKAt, topKChanged } from '../../common/routingLayout';
import { visibleToken } from '../../common/tokens';
import { NOT_IN_TRACE, sourceCaption } from '../../common/routingSource';

const fmt = (w: number) => w.toFixed(2);


/**
 * Hover for token t: its text and id, surprisal, then per layer the top-k experts with gate weights and the router
 * entropy; with steering active, the unsteered experts beside them; labels when known. `opts`: which layers
 * (hoverLayers.ts; without it every layer).
 */
export function hoverMarkdown(r: RoutingResult, t: number, tokenText: string, labels?: string[][], opts?: HoverSettings): string {
  const { layers: L, topK: K } = r.model;
  const absent = new Set(r.absent ?? []);
  const lines: string[] = [];
  const surprisal = absent.has('surprisal') ? `surprisal ${NOT_IN_TRACE}` : `surprisal ${r.surprisal[t].toFixed(2)} bits`;
  lines.push(`**MoE Lens**${r.model.weights ? ` (${r.model.weights})` : ''} · token ${t + 1}/${r.tokens} **${visibleToken(tokenText)}** (id ${r.ids[t]}) · ${surprisal}`);
  if (r.source) lines.push(`\n_Routing recorded by a serving engine (${escapeMarkdown(sourceCaption(r) ?? '')}): expert ids only; gate weights, entropy and surprisal are ${NOT_IN_TRACE}._`);
  if (r.notRecorded?.includes(t)) {
    lines.push('', `Routing **not recorded** for this token by the engine (a prefix-cached position, or a last generated token, never fed back).`);
    return lines.join('\n');
  }
  if (r.context) lines.push(`\n_Notebook cell ${cellContextCaption(r.context, r.model.contextLength)} · moeLens.notebook.context_`);
  if (r.windows > 1) lines.push(`\n_Document longer than the ${r.model.contextLength}-token context: analysed in ${r.windows} windows of independent context._`);
  if (r.truncated) lines.push(`\n_Only the first ${r.tokens} tokens were analysed (moeLens.maxTokens)._`);
  const steered = r.steered && r.baselineExperts;
  const experts = absent.has('weights') ? 'experts' : 'experts (weight)';
  lines.push('', steered ? `| layer | ${experts} | unsteered | entropy |` : `| layer | ${experts} | entropy |`, steered ? '|---:|---|---|---:|' : '|---:|---|---:|');
  const shown = hoverLayers(r, t, opts);
  for (const l of shown) {
    const base = slotIndex(r.model, t, l);
    const cells: string[] = [];
    for (let k = 0; k < K; k++) {
      const e = r.experts[base + k];
      const label = labels?.[l]?.[e];
      // labels come from a file (cache, profile corpus): escaped, so a planted label cannot render a link or image
      cells.push(`E${e}${absent.has('weights') ? '' : ` (${fmt(r.weights[base + k])})`}${label ? ` ${escapeMarkdown(label)}` : ''}`);
    }
    const ent = absent.has('entropy') ? NOT_IN_TRACE : r.entropy[layerIndex(r.model, t, l)].toFixed(2);
    if (steered) {
      const was = topKAt(r.baselineExperts!, r.model, t, l);
      const changed = topKChanged(r, t, l);
      lines.push(`| ${l} | ${cells.join(', ')} | ${changed ? '**' : ''}${was.map((e) => `E${e}`).join(', ')}${changed ? '** (changed)' : ''} | ${ent} |`);
    } else lines.push(`| ${l} | ${cells.join(', ')} | ${ent} |`);
  }
  if (shown.length < L) lines.push('', `_${shown.length} of ${L} layers · [all layers](command:${TOGGLE_HOVER_LAYERS} "moeLens.hover.layers: all")_`);
  else if (opts?.layers === 'all' && L > 3) lines.push('', `_[fewer layers](command:${TOGGLE_HOVER_LAYERS} "moeLens.hover.layers: compact")_`);
  if (absent.has('weights')) lines.push('', `_experts in the engine's order (the first is taken as top-1); weights ${NOT_IN_TRACE}_`);
  else lines.push('', `_entropy in nats of the router softmax (max ${Math.log(r.model.experts).toFixed(2)})_`);
  return lines.join('\n');
}

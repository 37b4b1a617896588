import type { RoutingResult } from '../../common/protocol';
import { layerIndex, slotIndex, topKAt, topKChanged } from '../../common/routingLayout';
import { visibleToken } from '../../common/tokens';

const fmt = (w: number) => w.toFixed(2);

/**
 * Hover for token t: its text and id, surprisal, then per layer the top-k experts with gate weights and the router
 * entropy; with steering active, the unsteered experts beside them; labels when known.
 */
export function hoverMarkdown(r: RoutingResult, t: number, tokenText: string, labels?: string[][]): string {
  const { layers: L, topK: K } = r.model;
  const lines: string[] = [];
  lines.push(`**MoE Lens** · token ${t + 1}/${r.tokens} **${visibleToken(tokenText)}** (id ${r.ids[t]}) · surprisal ${r.surprisal[t].toFixed(2)} bits`);
  if (r.windows > 1) lines.push(`\n_Document longer than the ${r.model.contextLength}-token context: analysed in ${r.windows} windows of independent context._`);
  if (r.truncated) lines.push(`\n_Only the first ${r.tokens} tokens were analysed (moeLens.maxTokens)._`);
  const steered = r.steered && r.baselineExperts;
  lines.push('', steered ? '| layer | experts (weight) | unsteered | entropy |' : '| layer | experts (weight) | entropy |', steered ? '|---:|---|---|---:|' : '|---:|---|---:|');
  for (let l = 0; l < L; l++) {
    const base = slotIndex(r.model, t, l);
    const cells: string[] = [];
    for (let k = 0; k < K; k++) {
      const e = r.experts[base + k];
      const label = labels?.[l]?.[e];
      cells.push(`E${e} (${fmt(r.weights[base + k])})${label ? ` ${label}` : ''}`);
    }
    const ent = r.entropy[layerIndex(r.model, t, l)].toFixed(2);
    if (steered) {
      const was = topKAt(r.baselineExperts!, r.model, t, l);
      const changed = topKChanged(r, t, l);
      lines.push(`| ${l} | ${cells.join(', ')} | ${changed ? '**' : ''}${was.map((e) => `E${e}`).join(', ')}${changed ? '** (changed)' : ''} | ${ent} |`);
    } else lines.push(`| ${l} | ${cells.join(', ')} | ${ent} |`);
  }
  lines.push('', `_entropy in nats of the router softmax (max ${Math.log(r.model.experts).toFixed(2)})_`);
  return lines.join('\n');
}

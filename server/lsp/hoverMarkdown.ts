import { escapeMarkdown } from '../../common/labelText';
import type { RoutingResult } from '../../common/protocol';

/** Makes whitespace visible and escapes markdown, so a token like "\n    " reads as "↵····". */
export function visibleToken(text: string): string {
  const shown = text.replace(/\r/g, '␍').replace(/\n/g, '↵').replace(/\t/g, '⇥').replace(/ /g, '·');
  return shown.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`) || '∅';
}

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
    const base = (t * L + l) * K;
    const cells: string[] = [];
    for (let k = 0; k < K; k++) {
      const e = r.experts[base + k];
      const label = labels?.[l]?.[e];
      // labels come from a file (cache, profile corpus): escaped, so a planted label cannot render a link or image
      cells.push(`E${e} (${fmt(r.weights[base + k])})${label ? ` ${escapeMarkdown(label)}` : ''}`);
    }
    const ent = r.entropy[t * L + l].toFixed(2);
    if (steered) {
      const was = r.baselineExperts!.slice(base, base + K);
      const changed = was.slice().sort().join() !== r.experts.slice(base, base + K).sort().join();
      lines.push(`| ${l} | ${cells.join(', ')} | ${changed ? '**' : ''}${was.map((e) => `E${e}`).join(', ')}${changed ? '** (changed)' : ''} | ${ent} |`);
    } else lines.push(`| ${l} | ${cells.join(', ')} | ${ent} |`);
  }
  lines.push('', `_entropy in nats of the router softmax (max ${Math.log(r.model.experts).toFixed(2)})_`);
  return lines.join('\n');
}

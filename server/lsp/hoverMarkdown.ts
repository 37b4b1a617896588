import type { RoutingResult } from '../../common/protocol';
import { NOT_IN_TRACE, sourceCaption } from '../../common/routingSource';

/** Makes whitespace visible and escapes markdown, so a token like "\n    " reads as "↵····". */
export function visibleToken(text: string): string {
  const shown = text.replace(/\r/g, '␍').replace(/\n/g, '↵').replace(/\t/g, '⇥').replace(/ /g, '·');
  return shown.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`) || '∅';
}

const fmt = (w: number) => w.toFixed(2);
const escapeMarkdown = (s: string) => s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);


/**
 * Hover for token t: its text and id, surprisal, then per layer the top-k experts with gate weights and the router
 * entropy; with steering active, the unsteered experts beside them; labels when known.
 */
export function hoverMarkdown(r: RoutingResult, t: number, tokenText: string, labels?: string[][]): string {
  const { layers: L, topK: K } = r.model;
  const absent = new Set(r.absent ?? []);
  const lines: string[] = [];
  const surprisal = absent.has('surprisal') ? `surprisal ${NOT_IN_TRACE}` : `surprisal ${r.surprisal[t].toFixed(2)} bits`;
  lines.push(`**MoE Lens** · token ${t + 1}/${r.tokens} **${visibleToken(tokenText)}** (id ${r.ids[t]}) · ${surprisal}`);
  if (r.source) lines.push(`\n_Routing recorded by a serving engine (${escapeMarkdown(sourceCaption(r) ?? '')}): expert ids only; gate weights, entropy and surprisal are ${NOT_IN_TRACE}._`);
  if (r.notRecorded?.includes(t)) {
    lines.push('', `Routing **not recorded** for this token by the engine (a prefix-cached position, or a last generated token, never fed back).`);
    return lines.join('\n');
  }
  if (r.windows > 1) lines.push(`\n_Document longer than the ${r.model.contextLength}-token context: analysed in ${r.windows} windows of independent context._`);
  if (r.truncated) lines.push(`\n_Only the first ${r.tokens} tokens were analysed (moeLens.maxTokens)._`);
  const steered = r.steered && r.baselineExperts;
  const experts = absent.has('weights') ? 'experts' : 'experts (weight)';
  lines.push('', steered ? `| layer | ${experts} | unsteered | entropy |` : `| layer | ${experts} | entropy |`, steered ? '|---:|---|---|---:|' : '|---:|---|---:|');
  for (let l = 0; l < L; l++) {
    const base = (t * L + l) * K;
    const cells: string[] = [];
    for (let k = 0; k < K; k++) {
      const e = r.experts[base + k];
      const label = labels?.[l]?.[e];
      cells.push(`E${e}${absent.has('weights') ? '' : ` (${fmt(r.weights[base + k])})`}${label ? ` ${label}` : ''}`);
    }
    const ent = absent.has('entropy') ? NOT_IN_TRACE : r.entropy[t * L + l].toFixed(2);
    if (steered) {
      const was = r.baselineExperts!.slice(base, base + K);
      const changed = was.slice().sort().join() !== r.experts.slice(base, base + K).sort().join();
      lines.push(`| ${l} | ${cells.join(', ')} | ${changed ? '**' : ''}${was.map((e) => `E${e}`).join(', ')}${changed ? '** (changed)' : ''} | ${ent} |`);
    } else lines.push(`| ${l} | ${cells.join(', ')} | ${ent} |`);
  }
  if (absent.has('weights')) lines.push('', `_experts in the engine's order (the first is taken as top-1); weights ${NOT_IN_TRACE}_`);
  else lines.push('', `_entropy in nats of the router softmax (max ${Math.log(r.model.experts).toFixed(2)})_`);
  return lines.join('\n');
}

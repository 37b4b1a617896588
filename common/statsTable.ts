// Routing statistics as a plain-text table, one row per layer: `moe-lens stats` prints it and the editor's log
// writes it (instead of the whole result as one JSON line).
import type { StatsResult } from './protocol';

const fmt = (x: number | null, d = 3) => (x === null ? '—' : x.toFixed(d));

/** The statistics as a terminal table, one row per layer. */
export function statsTable(s: StatsResult): string {
  const head = `${s.model.name} · ${s.tokens} tokens · ${s.files.length} file${s.files.length === 1 ? '' : 's'}${s.traced?.length ? ` (${s.traced.length} from traces)` : ''}`;
  const rows = [['layer', 'lbl', 'dead', 'top1Repeat', 'chance', 'tokenIdConsistency', 'meanEntropy', 'max load']];
  s.layers.forEach((l, i) => {
    rows.push([String(i), fmt(l.lbl), String(l.deadExperts.length), fmt(l.top1Repeat), fmt(l.top1RepeatChance), fmt(l.tokenIdConsistency), fmt(l.meanEntropy), fmt(Math.max(...l.load))]);
  });
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((v, c) => v.padStart(widths[c])).join('  '));
  const dead = s.layers.flatMap((l, i) => (l.deadExperts.length ? [`layer ${i}: ${l.deadExperts.map((e) => `E${e}`).join(' ')}`] : []));
  return `${head}\n${lines.join('\n')}\n${dead.length ? `dead experts: ${dead.join('; ')}\n` : ''}`;
}


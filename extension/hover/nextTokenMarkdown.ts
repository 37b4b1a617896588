// Pure: the markdown of the next-token hover (no vscode import, unit-tested in plain Node).
import type { NextTokenChangeResult } from '../../common/protocol';
import { visibleToken } from '../../common/tokens';

const pct = (p: number) => `${(p * 100).toFixed(1)}%`;

export function nextTokenMarkdown(r: NextTokenChangeResult): string {
  const rows = Math.max(r.baseline.length, r.steered.length);
  const lines = [
    `**Next token after this one** · KL(baseline ‖ steered) = ${r.klNats.toFixed(3)} nats`,
    '',
    '| # | baseline | steered |',
    '|---:|---|---|',
  ];
  const cell = (x?: { text: string; p: number }) => (x ? `**${visibleToken(x.text)}** ${pct(x.p)}` : '');
  for (let i = 0; i < rows; i++) lines.push(`| ${i + 1} | ${cell(r.baseline[i])} | ${cell(r.steered[i])} |`);
  if (r.baseline[0] && r.steered[0] && r.baseline[0].id !== r.steered[0].id) lines.push('', '_Steering changes the most likely next token._');
  return lines.join('\n');
}

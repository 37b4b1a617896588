// The panel's Pruning, Importance and Offloading views: the last results the extension sent ("Prune Experts for a
// Corpus…", "Expert Offloading…") drawn with pruneCharts.ts. The buttons under the curve only post a pruneAction:
// the extension owns the steering state and the exported models.
import type { HostMessage } from '../common/webviewMessages';
import type { Figure } from './charts';
import { importanceFigure, offloadFigure, pruneCurveFigure } from './pruneCharts';
import type { Theme } from './theme';

type PruningMessage = Extract<HostMessage, { type: 'pruning' }>;
type OffloadMessage = Extract<HostMessage, { type: 'offload' }>;

export interface PruneViewParts {
  $: (id: string) => HTMLElement;
  show(part: 'chart' | 'empty', emptyText?: string): void;
  plot(f: Figure): Promise<void>;
  width(): number;
}

const NO_PRUNING = 'No pruning yet. Run “MoE Lens: Prune Experts for a Corpus…”: it measures held-out bits per token for each kept fraction (the criterion, frequency, random pruning) and finds the threshold.';
const NO_OFFLOAD = 'No offloading simulation yet. Run “MoE Lens: Expert Offloading…”: the hit rate of an LRU expert cache of C experts per layer, and SRP / SCH (local routing consistency).';

export class PruneViews {
  pruning?: PruningMessage;
  offload?: OffloadMessage;

  receive(m: PruningMessage | OffloadMessage): void {
    if (m.type === 'pruning') this.pruning = m;
    else this.offload = m;
  }

  render(view: 'pruning' | 'importance' | 'offload', t: Theme, p: PruneViewParts): Promise<void> | void {
    if (view === 'offload') {
      if (!this.offload) return p.show('empty', NO_OFFLOAD);
      const r = this.offload.result;
      p.show('chart');
      p.$('info').textContent = `${this.offload.caption} · expert size ${(r.expertBytes / 1e6).toFixed(2)} MB · segments of ${r.segment} tokens · hover a point for the bytes read per token`;
      return p.plot(offloadFigure(t, r, p.width()));
    }
    const m = this.pruning;
    if (!m || (view === 'importance' && !m.importance)) return p.show('empty', NO_PRUNING);
    p.show('chart');
    const r = m.result;
    if (view === 'importance') {
      p.$('info').textContent = `${m.caption} · ✕ = pruned (keeping ${r.keep} per layer)`;
      return p.plot(importanceFigure(t, m.importance!, r.disabled, p.width()));
    }
    const layers = new Set(r.disabled.map((d) => d[0])).size;
    const pruned = `keeping ${r.keep} experts per layer prunes ${r.disabled.length} expert${r.disabled.length === 1 ? '' : 's'}${layers ? ` over ${layers} layer${layers === 1 ? '' : 's'}` : ''}`;
    p.$('info').textContent = `${m.caption} · ${pruned}${r.warnings.length ? ` · ⚠ ${r.warnings.join('; ')}` : ''}${m.exported ? ` · exported as ${m.exported}` : ''}`;
    p.$('prune-use').hidden = !m.exported;
    return p.plot(pruneCurveFigure(t, r, p.width()));
  }
}

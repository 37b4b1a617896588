import type { ExecutionProviderSetting, ServerSettings } from '../../common/protocol';
import { ModelLoadError } from '../model/errors';
import { embeddedModelDir } from '../model/embeddedModel';
import { ModelSession } from '../model/modelSession';

/**
 * How long a model load may take before it counts as failed: 120 s (a multi-GB graph from a slow disk loads in well
 * under that; a hung network mount never finishes). MOE_LENS_LOAD_TIMEOUT_MS overrides it (tests use a short one).
 */
export const loadTimeoutMs = (): number => Number(process.env.MOE_LENS_LOAD_TIMEOUT_MS) || 120_000;

type Loader = (dir: string, provider: ExecutionProviderSetting) => Promise<ModelSession>;

interface Load {
  dir: string;
  provider: ExecutionProviderSetting;
  session: Promise<ModelSession>;
  /** resolves when a newer load replaces this one: waiters move on to the newer load */
  superseded: Promise<void>;
  supersede(): void;
}

/**
 * Holds the one model session of the current settings; loads it once, reloads only when path or provider change.
 * A load has a timeout, and whoever waits for a session follows the newest load: a load that never finishes (a file
 * on a hung mount) cannot wedge analysis once the settings point elsewhere.
 */
export class ModelHost {
  private current?: Load;

  constructor(private readonly loader: Loader = (dir, provider) => ModelSession.load(dir, provider)) {}

  dirFor(settings: ServerSettings): string {
    return settings.modelPath?.trim() ? settings.modelPath.trim() : embeddedModelDir();
  }

  /** Starts loading when the directory or provider differs from the loaded one; returns whether it changed. */
  configure(settings: ServerSettings): boolean {
    const dir = this.dirFor(settings);
    if (this.current && this.current.dir === dir && this.current.provider === settings.executionProvider) return false;
    const old = this.current;
    let supersede!: () => void;
    const superseded = new Promise<void>((r) => (supersede = r));
    const session = withTimeout(this.loader(dir, settings.executionProvider), loadTimeoutMs(), dir);
    this.current = { dir, provider: settings.executionProvider, session, superseded, supersede };
    session.catch(() => undefined); // surfaced through session()
    if (old) {
      old.supersede();
      // a superseded load that still finishes is released, not leaked
      old.session.then((s) => s.dispose()).catch(() => undefined);
    }
    return true;
  }

  /** The current load's session; if a newer load replaces it while waiting, the newer one's. */
  session(): Promise<ModelSession> {
    const cur = this.current;
    if (!cur) return Promise.reject(new Error('no model configured'));
    return Promise.race([cur.session, cur.superseded.then(() => this.session())]);
  }

  get dir(): string | undefined {
    return this.current?.dir;
  }
}

/**
 * `p`, or a ModelLoadError after `ms`. The load itself cannot be aborted (a read blocked in the kernel stays blocked),
 * but nobody waits for it any more, and if it ever finishes its session is released.
 */
function withTimeout(p: Promise<ModelSession>, ms: number, dir: string): Promise<ModelSession> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.then((s) => s.dispose()).catch(() => undefined);
      reject(new ModelLoadError(`loading did not finish within ${Math.round(ms / 1000)} s (a file on a slow or hung disk?)`, dir));
    }, ms);
    timer.unref?.();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

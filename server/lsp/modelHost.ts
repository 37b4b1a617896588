import type { ExecutionProviderSetting, ServerSettings } from '../../common/protocol';
import type { ModelBackend } from '../model/backend';
import { ModelLoadError } from '../model/errors';
import { embeddedModelDir } from '../model/embeddedModel';
import { ModelSession } from '../model/modelSession';
import { RemoteBackend } from '../model/remote/remoteBackend';

/** How often a failed engine is retried; MOE_LENS_REMOTE_RECONNECT_MS overrides it (tests). */
const RECONNECT_MS = Number(process.env.MOE_LENS_REMOTE_RECONNECT_MS ?? 5000);

/**
 * How long a model load may take before it counts as failed: 120 s (a multi-GB graph from a slow disk loads in well
 * under that; a hung network mount never finishes). MOE_LENS_LOAD_TIMEOUT_MS overrides it (tests use a short one).
 */
export const loadTimeoutMs = (): number => Number(process.env.MOE_LENS_LOAD_TIMEOUT_MS) || 120_000;

/** Loads an ONNX model directory (tests pass their own to stand in for a hung disk). */
type Loader = (dir: string, provider: ExecutionProviderSetting) => Promise<ModelBackend>;

interface Load {
  /** what the backend depends on: a new key means a new load */
  key: string;
  /** the model directory or the engine URL, for messages */
  source: string;
  session: Promise<ModelBackend>;
  /** resolves when a newer load replaces this one: waiters move on to the newer load */
  superseded: Promise<void>;
  supersede(): void;
}

/**
 * Holds the one model backend of the current settings; loads it once, reloads only when what it depends on changes.
 * A load has a timeout, and whoever waits for a backend follows the newest load: a load that never finishes (a file
 * on a hung mount) cannot wedge analysis once the settings point elsewhere.
 */
export class ModelHost {
  private current?: Load;
  private lastRetry = 0;

  constructor(
    private readonly loader: Loader = (dir, provider) => ModelSession.load(dir, provider),
    private readonly timeoutMs: number = loadTimeoutMs(),
  ) {}

  dirFor(settings: ServerSettings): string {
    return settings.modelPath?.trim() ? settings.modelPath.trim() : embeddedModelDir();
  }

  /** Starts loading when the backend, directory, provider or engine differ from the loaded one; returns whether it changed. */
  configure(settings: ServerSettings): boolean {
    const kind = settings.backend ?? 'onnx';
    const dir = this.dirFor(settings);
    const remote = settings.remote ?? { url: '', model: '' };
    // A remote engine reads only a local copy of the served model's tokenizer.json / config.json, never the embedded model's.
    const localDir = settings.modelPath?.trim() ?? '';
    const key = kind === 'onnx' ? JSON.stringify([kind, dir, settings.executionProvider]) : JSON.stringify([kind, remote.url, remote.model, localDir]);
    if (this.current && this.current.key === key) return false;
    const old = this.current;
    const source = kind === 'onnx' ? dir : remote.url.trim();
    const load = kind === 'onnx' ? this.loader(dir, settings.executionProvider) : RemoteBackend.load({ kind, url: remote.url.trim(), model: remote.model.trim(), localDir });
    let supersede!: () => void;
    const superseded = new Promise<void>((r) => (supersede = r));
    const session = withTimeout(load, this.timeoutMs, source);
    this.current = { key, source, session, superseded, supersede };
    session.catch(() => undefined); // surfaced through session()
    if (old) {
      old.supersede();
      // a superseded load that still finishes is released, not leaked
      old.session.then((s) => s.dispose()).catch(() => undefined);
    }
    return true;
  }

  /**
   * For a serving engine whose load failed: forgets it, at most every RECONNECT_MS, so that the next configure loads
   * it again (starting the engine after the editor must not need a settings change). True when it did.
   */
  forgetFailedEngine(settings: ServerSettings): boolean {
    if (!settings.backend || settings.backend === 'onnx' || Date.now() - this.lastRetry < RECONNECT_MS) return false;
    this.lastRetry = Date.now();
    this.current = undefined;
    return true;
  }

  /**
   * The current load's backend; if a newer load replaces it while waiting, the newer one's. Once a load is superseded
   * its outcome no longer counts: a superseded load that fails (or finishes) afterwards cannot settle the wait.
   */
  session(): Promise<ModelBackend> {
    const cur = this.current;
    if (!cur) return Promise.reject(new Error('no model configured'));
    let moved = false;
    const next = cur.superseded.then(() => {
      moved = true;
      return this.session();
    });
    const own = cur.session.then(
      (s) => (moved ? next : s),
      (e: unknown) => (moved ? next : Promise.reject(e)),
    );
    return Promise.race([own, next]);
  }

  /** The model directory, or the engine URL, being loaded or in use. */
  get dir(): string | undefined {
    return this.current?.source;
  }
}

/**
 * `p`, or a ModelLoadError after `ms`. The load itself cannot be aborted (a read blocked in the kernel stays blocked),
 * but nobody waits for it any more, and if it ever finishes its backend is released.
 */
function withTimeout(p: Promise<ModelBackend>, ms: number, source: string): Promise<ModelBackend> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.then((s) => s.dispose()).catch(() => undefined);
      reject(new ModelLoadError(`loading did not finish within ${Math.round(ms / 1000)} s (a file on a slow or hung disk?)`, source));
    }, ms);
    timer.unref?.();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

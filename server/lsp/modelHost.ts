import type { ServerSettings } from '../../common/protocol';
import type { ModelBackend } from '../model/backend';
import { embeddedModelDir } from '../model/embeddedModel';
import { ModelSession } from '../model/modelSession';
import { RemoteBackend } from '../model/remote/remoteBackend';

/** How often a failed engine is retried; MOE_LENS_REMOTE_RECONNECT_MS overrides it (tests). */
const RECONNECT_MS = Number(process.env.MOE_LENS_REMOTE_RECONNECT_MS ?? 5000);

/** Holds the one model backend of the current settings; loads it once, reloads only when what it depends on changes. */
export class ModelHost {
  private current?: { key: string; source: string; session: Promise<ModelBackend> };

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
    const old = this.current?.session;
    const session: Promise<ModelBackend> = kind === 'onnx'
      ? ModelSession.load(dir, settings.executionProvider)
      : RemoteBackend.load({ kind, url: remote.url.trim(), model: remote.model.trim(), localDir });
    this.current = { key, source: kind === 'onnx' ? dir : remote.url.trim(), session };
    session.catch(() => undefined); // surfaced through session()
    old?.then((s) => s.dispose()).catch(() => undefined);
    return true;
  }

  private lastRetry = 0;

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

  session(): Promise<ModelBackend> {
    if (!this.current) return Promise.reject(new Error('no model configured'));
    return this.current.session;
  }

  /** The model directory, or the engine URL, being loaded or in use. */
  get dir(): string | undefined {
    return this.current?.source;
  }
}

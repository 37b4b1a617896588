import type { ExecutionProviderSetting, ServerSettings } from '../../common/protocol';
import { embeddedModelDir } from '../model/embeddedModel';
import { ModelSession } from '../model/modelSession';

/** Holds the one model session of the current settings; loads it once, reloads only when path or provider change. */
export class ModelHost {
  private current?: { dir: string; provider: ExecutionProviderSetting; session: Promise<ModelSession> };

  dirFor(settings: ServerSettings): string {
    return settings.modelPath?.trim() ? settings.modelPath.trim() : embeddedModelDir();
  }

  /** Starts loading when the directory or provider differs from the loaded one; returns whether it changed. */
  configure(settings: ServerSettings): boolean {
    const dir = this.dirFor(settings);
    if (this.current && this.current.dir === dir && this.current.provider === settings.executionProvider) return false;
    const old = this.current?.session;
    this.current = { dir, provider: settings.executionProvider, session: ModelSession.load(dir, settings.executionProvider) };
    this.current.session.catch(() => undefined); // surfaced through session()
    old?.then((s) => s.dispose()).catch(() => undefined);
    return true;
  }

  session(): Promise<ModelSession> {
    if (!this.current) return Promise.reject(new Error('no model configured'));
    return this.current.session;
  }

  get dir(): string | undefined {
    return this.current?.dir;
  }
}

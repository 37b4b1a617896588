// Loading (and reloading) the model for the current settings: progress and errors go to the status (the client's
// status bar) and a notification; a load superseded by a newer one reports nothing.
import { CancelledError } from '../analysis/analyzer';
import { steeringRefusal, type ModelBackend } from '../model/backend';
import { remoteCapabilities } from '../model/remote/remoteBackend';
import { validateRules } from '../routing/expertBias';
import { expertLabels, type ExpertLabelSet } from '../steering/labels';
import { notify, readSettings, setStatus, type Server } from './serverState';

/**
 * The model's expert labels as the server computes them: the profiling pass's windows go through the documents'
 * model queue behind every document analysis (DocumentAnalyses.background), and stop once `isCancelled` (a newer load).
 */
export async function serverLabels(s: Server, session: ModelBackend, isCancelled?: () => boolean): Promise<ExpertLabelSet | null> {
  const run = { schedule: <T>(call: () => Promise<T>) => s.analyses.background(call), isCancelled };
  try {
    return await expertLabels(session, s.state.cacheDir, run);
  } catch (e) {
    // the pass this call joined was an earlier load's of the same model, stopped by this load: start its own
    if (e instanceof CancelledError && !isCancelled?.()) return expertLabels(session, s.state.cacheDir, run);
    throw e;
  }
}

export async function loadModel(s: Server): Promise<void> {
  const { connection, host, analyses, documents, state } = s;
  if (!host.configure(state.settings)) return;
  const generation = ++state.loadGeneration;
  const superseded = () => generation !== state.loadGeneration;
  analyses.invalidateAll();
  s.traces.clear(); // a trace was checked against the old model's tokenizer and shape
  state.loaded = undefined;
  const engine = state.settings.backend && state.settings.backend !== 'onnx' ? state.settings.backend : undefined;
  setStatus(s, { state: 'loading', model: undefined, backend: undefined, modelPath: host.dir, message: engine ? `Connecting to ${engine} at ${host.dir}` : `Loading model from ${host.dir}` });
  const progress = await connection.window.createWorkDoneProgress().catch(() => undefined);
  progress?.begin('MoE Lens: loading model', undefined, host.dir);
  try {
    const session = await host.session();
    if (superseded()) return;
    state.loaded = session;
    connection.console.info(`model ${session.info.name} loaded from ${session.source} on ${session.info.executionProvider}`);
    setStatus(s, { state: 'ready', model: session.info, message: undefined, backend: { kind: session.kind, source: session.source, capabilities: session.capabilities } });
    // A serving engine can stop answering after it loaded: the status bar says which engine and why, until it answers.
    session.onHealth?.((problem) => {
      if (superseded()) return;
      if (problem) connection.console.warn(problem);
      setStatus(s, problem ? { state: 'error', model: session.info, message: problem } : { state: 'ready', model: session.info, message: undefined });
    });
    // A serving engine learns its shape from its answers: a new (frozen) info is a status change.
    session.onInfo?.((info) => {
      if (!superseded()) setStatus(s, { model: { ...info, labels: s.state.status.model?.labels } });
    });
    const refusal = steeringRefusal(session);
    if (refusal && state.rules.length) {
      notify(s, 'warning', `MoE Lens: steering rules were cleared: ${refusal}`);
      state.rules = [];
    }
    // Validate the steering state against the new model; rules that no longer fit are dropped with a message.
    try {
      state.rules = validateRules(state.rules, session.info);
    } catch (e) {
      notify(s, 'warning', `MoE Lens: steering rules do not fit the new model and were cleared (${(e as Error).message})`);
      state.rules = [];
    }
    for (const d of documents.all()) analyses.schedule(d.uri);
    // Expert labels (profile corpus, cached in the client's folder when it gave one) arrive a little later through
    // the status: hover, tree and quick picks show them from then on. A model without a profile corpus has none.
    void serverLabels(s, session, superseded)
      .then((l) => l && !superseded() && setStatus(s, { model: { ...session.info, labels: l.labels } }))
      .catch((e) => connection.console.warn(`expert labels unavailable: ${(e as Error).message}`));
  } catch (e) {
    if (superseded()) return;
    const message = (e as Error).message;
    connection.console.error(`model failed to load: ${message}`);
    // A remote engine that cannot be reached still names itself in the status bar.
    setStatus(s, { state: 'error', model: undefined, message, backend: engine ? { kind: engine, source: host.dir ?? '', capabilities: remoteCapabilities(engine) } : undefined });
    notify(s, 'error', `MoE Lens: the model could not be loaded. ${message}`);
  } finally {
    progress?.done();
  }
}

/** workspace/didChangeConfiguration: pull the settings (or take the pushed ones), re-analyse, reload if needed. */
export async function onConfigurationChange(s: Server, pushed: unknown): Promise<void> {
  const { connection, analyses, documents, state } = s;
  // Pull model (the client answers workspace/configuration); push model as a fallback for simple clients.
  let raw: unknown = (pushed as { moeLens?: unknown } | null)?.moeLens;
  if (state.canPullConfiguration) raw = await connection.workspace.getConfiguration('moeLens').catch(() => raw);
  const next = readSettings(raw);
  // what a document's text means to the model changed: every result goes (the KV caches check themselves)
  const readChanged = next.maxTokens !== state.settings.maxTokens || next.notebook?.context !== state.settings.notebook?.context;
  state.settings = next;
  if (readChanged) {
    analyses.invalidateAll();
    for (const d of documents.all()) analyses.schedule(d.uri);
  }
  await loadModel(s);
}

// LSP requests for the steering features: continuation compare, contrastive expert search, expert labels, per-document
// expert usage and the next-token change at a position. The server's main file calls registerSteeringRequests once;
// everything here reads the session and the steering state through `deps`, so it holds no state of its own.
import type { CancellationToken, Connection } from 'vscode-languageserver/node';
import {
  Methods,
  SteeringMethods,
  type ContrastiveParams,
  type ContrastiveResult,
  type ExpertLabels,
  type ExpertUsageParams,
  type ExpertUsageResult,
  type GenerateParams,
  type GenerateProgress,
  type GenerateResult,
  type NextTokenChangeParams,
  type NextTokenChangeResult,
  type RoutingResult,
  type SteeringRule,
  type TextSource,
} from '../../common/protocol';
import { DEFAULT_SETTINGS } from '../../common/defaults';
import { analyzeText, CancelledError } from '../analysis/analyzer';
import type { ModelBackend } from '../model/backend';
import { tokenAt } from '../../common/tokens';
import { ModelNotLoadedError, ParamsError, toResponseError } from './errors';
import { readSourceFile } from './sourceFiles';
import { findContrastiveExperts } from '../steering/contrastive';
import { compareContinuation } from '../steering/generate';
import { expertLabels } from '../steering/labels';
import { nextTokenChange } from '../steering/nextToken';
import { expertUsage } from '../steering/usage';

export interface SteeringDeps {
  getSession(): ModelBackend | undefined;
  getRules(): SteeringRule[];
  getDocumentText(uri: string): string | undefined;
  /** a folder the client chose for caches (the extension's globalStorage); undefined: no disk cache */
  cacheDir(): string | undefined;
  /** the document's current routing when the server already has it (saves an analysis for moeLens/expertUsage) */
  getRouting?(uri: string): Promise<RoutingResult>;
  /** moeLens.maxTokens (default: common/defaults.ts) */
  maxTokens?(): number;
}

const invalid = (message: string) => new ParamsError(message);

function requireSession(deps: SteeringDeps): ModelBackend {
  const s = deps.getSession();
  if (!s) throw new ModelNotLoadedError('the model is not loaded yet (see the MoE Lens status bar item)');
  return s;
}

function requireText(deps: SteeringDeps, uri: unknown): string {
  if (typeof uri !== 'string') throw invalid('"uri" must be a string');
  const text = deps.getDocumentText(uri);
  if (text === undefined) throw invalid(`document ${uri} is not open`);
  return text;
}

function requireOffset(offset: unknown, text: string): number {
  if (!(Number.isInteger(offset) && (offset as number) >= 0 && (offset as number) <= text.length)) {
    throw invalid(`"offset" must be an integer from 0 to the document length ${text.length}, not ${String(offset)}`);
  }
  return offset as number;
}

/** A contrastive text: an open document, a file: uri on disk, or literal text. */
async function sourceText(deps: SteeringDeps, s: TextSource, where: string): Promise<string> {
  if (s && typeof (s as { text?: unknown }).text === 'string') return (s as { text: string }).text;
  const uri = (s as { uri?: unknown })?.uri;
  if (typeof uri !== 'string') throw invalid(`${where}: each entry needs "uri" or "text"`);
  const open = deps.getDocumentText(uri);
  if (open !== undefined) return open;
  if (uri.startsWith('file:')) return readSourceFile(uri, where);
  throw invalid(`${where}: document ${uri} is not open`);
}

async function sourceTexts(deps: SteeringDeps, set: unknown, name: string): Promise<string[]> {
  if (!Array.isArray(set) || set.length === 0) throw invalid(`"${name}" must be a non-empty array of { uri } or { text }`);
  return Promise.all(set.map((s, i) => sourceText(deps, s as TextSource, `${name}[${i}]`)));
}

/**
 * Wraps a handler: errors become ResponseErrors, a cancelled token becomes RequestCancelled. vscode-jsonrpc passes
 * (params, token), or only (token) for a request sent without params: the token is always the last argument.
 */
function handle<P, R>(fn: (params: P, token: CancellationToken) => Promise<R>) {
  return async (...args: unknown[]): Promise<R> => {
    const token = args[args.length - 1] as CancellationToken;
    const params = (args.length > 1 ? args[0] : undefined) as P;
    try {
      const r = await fn(params, token);
      if (token.isCancellationRequested) throw new CancelledError();
      return r;
    } catch (e) {
      throw toResponseError(e);
    }
  };
}

export function registerSteeringRequests(connection: Connection, deps: SteeringDeps): void {
  connection.onRequest(
    SteeringMethods.generate,
    handle(async (p: GenerateParams, token): Promise<GenerateResult> => {
      const session = requireSession(deps);
      const text = requireText(deps, p?.uri);
      const offset = requireOffset(p.offset, text);
      if (p.temperature !== undefined && !(typeof p.temperature === 'number' && p.temperature >= 0)) throw invalid('"temperature" must be a number ≥ 0');
      if (p.seed !== undefined && !Number.isInteger(p.seed)) throw invalid('"seed" must be an integer');
      const id = p.progressId ?? p.uri;
      const rules = deps.getRules();
      const r = await compareContinuation(
        session,
        text,
        offset,
        {
          maxNewTokens: p.maxNewTokens,
          temperature: p.temperature,
          seed: p.seed,
          isCancelled: () => token.isCancellationRequested,
          onProgress: (baseline, steered) => void connection.sendNotification(SteeringMethods.generateProgress, { id, baseline, steered } satisfies GenerateProgress),
        },
        rules,
      );
      return { id, rules, ...r };
    }),
  );

  connection.onRequest(
    SteeringMethods.contrastive,
    handle(async (p: ContrastiveParams, token): Promise<ContrastiveResult> => {
      const session = requireSession(deps);
      const [a, b] = [await sourceTexts(deps, p?.setA, 'setA'), await sourceTexts(deps, p?.setB, 'setB')];
      const labels = (await expertLabels(session, deps.cacheDir()).catch(() => null))?.labels;
      return findContrastiveExperts(session, a, b, {
        n: p.n,
        randomDraws: p.randomDraws,
        seed: p.seed,
        maxTokens: deps.maxTokens?.(),
        labels,
        isCancelled: () => token.isCancellationRequested,
      });
    }),
  );

  connection.onRequest(
    Methods.expertLabels,
    handle(async (): Promise<ExpertLabels> => (await expertLabels(requireSession(deps), deps.cacheDir()))?.labels ?? null),
  );

  connection.onRequest(
    Methods.expertUsage,
    handle(async (p: ExpertUsageParams, token): Promise<ExpertUsageResult> => {
      const session = requireSession(deps);
      const text = requireText(deps, p?.uri);
      const routing = deps.getRouting
        ? await deps.getRouting(p.uri)
        : await analyzeText(session, text, 0, { maxTokens: deps.maxTokens?.() ?? DEFAULT_SETTINGS.maxTokens, rules: deps.getRules(), isCancelled: () => token.isCancellationRequested });
      return { uri: p.uri, ...expertUsage(routing) };
    }),
  );

  connection.onRequest(
    SteeringMethods.nextTokenChange,
    handle(async (p: NextTokenChangeParams): Promise<NextTokenChangeResult> => {
      const session = requireSession(deps);
      const text = requireText(deps, p?.uri);
      const offset = requireOffset(p.offset, text);
      const enc = session.tokenizer.encode(text);
      const t = tokenAt(enc.offsets, offset);
      if (t < 0) throw invalid(`no token at offset ${offset}`);
      const rules = deps.getRules();
      const r = await nextTokenChange(session, enc.ids, t, rules);
      const named = (xs: { id: number; p: number }[]) => xs.map((x) => ({ ...x, text: session.tokenizer.tokenText(x.id) }));
      return { position: t, range: [enc.offsets[2 * t], enc.offsets[2 * t + 1]], baseline: named(r.baseline), steered: named(r.steered), klNats: r.klNats, rulesActive: rules.length > 0 };
    }),
  );
}

// LSP requests for the steering features: continuation compare, contrastive expert search, expert labels, per-document
// expert usage and the next-token change at a position. Registered once (lsp/server.ts) through the one request path
// (requests.ts): the model through `session`, documents through `openDocument`, the steering state from `s.state`.
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
  type TextSource,
} from '../../common/protocol';
import { tokenAt } from '../../common/tokens';
import { ParamsError, requireObject } from './errors';
import { serverLabels } from './modelLoading';
import { cellPrefix } from './notebookCells';
import { currentRouting, handler, openDocument, session } from './requests';
import type { Server } from './serverState';
import { readSourceFile } from './sourceFiles';
import { findContrastiveExperts } from '../steering/contrastive';
import { compareContinuation } from '../steering/generate';
import { nextTokenChange } from '../steering/nextToken';
import { contextText } from '../analysis/cellContext';
import { expertUsage } from '../steering/usage';

/** params.uri of an open document: its text. */
function documentText(s: Server, params: unknown, what: string): { uri: string; text: string } {
  const uri = requireObject(params, what).uri;
  if (typeof uri !== 'string') throw new ParamsError(`${what}: "uri" must be a string`);
  return { uri, text: openDocument(s, uri, 'uri').getText() };
}

function requireOffset(offset: unknown, text: string): number {
  if (!(Number.isInteger(offset) && (offset as number) >= 0 && (offset as number) <= text.length)) {
    throw new ParamsError(`"offset" must be an integer from 0 to the document length ${text.length}, not ${String(offset)}`);
  }
  return offset as number;
}

/** A contrastive text: an open document, a file: uri on disk, or literal text. */
async function sourceText(s: Server, src: TextSource, where: string): Promise<string> {
  if (src && typeof (src as { text?: unknown }).text === 'string') return (src as { text: string }).text;
  const uri = (src as { uri?: unknown })?.uri;
  if (typeof uri !== 'string') throw new ParamsError(`${where}: each entry needs "uri" or "text"`);
  const open = s.documents.get(uri);
  if (open) return open.getText();
  if (uri.startsWith('file:')) return readSourceFile(uri, where);
  return openDocument(s, uri, where).getText(); // throws DocumentNotOpenError naming the entry
}

async function sourceTexts(s: Server, set: unknown, name: string): Promise<string[]> {
  if (!Array.isArray(set) || set.length === 0) throw new ParamsError(`"${name}" must be a non-empty array of { uri } or { text }`);
  return Promise.all(set.map((x, i) => sourceText(s, x as TextSource, `${name}[${i}]`)));
}

/**
 * The document's tokens from its cached routing (the hover asks on every mouse move: no re-tokenising of the whole
 * document), when that result is of the current version and reaches `offset`; else `encode()` (a truncated analysis,
 * or one that failed).
 */
async function documentTokens(s: Server, uri: string, offset: number, encode: () => { ids: number[]; offsets: number[] }): Promise<{ ids: readonly number[]; offsets: readonly number[] }> {
  const r = await currentRouting(s, uri).catch(() => undefined);
  const doc = s.documents.get(uri);
  if (r && doc && r.version === doc.version && r.tokens > 0 && offset < r.offsets[2 * r.tokens - 1]) return r;
  return encode();
}

export function registerSteeringRequests(s: Server): void {
  const { connection, state } = s;
  connection.onRequest(
    SteeringMethods.generate,
    handler(async (params: GenerateParams | undefined, token): Promise<GenerateResult> => {
      const { uri, text } = documentText(s, params, 'moeLens/generate');
      const p = params!;
      const offset = requireOffset(p.offset, text);
      if (p.temperature !== undefined && !(typeof p.temperature === 'number' && p.temperature >= 0)) throw new ParamsError('"temperature" must be a number ≥ 0');
      if (p.seed !== undefined && !Number.isInteger(p.seed)) throw new ParamsError('"seed" must be an integer');
      const model = await session(s);
      const id = p.progressId ?? uri;
      const rules = state.rules;
      const r = await compareContinuation(
        model,
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
    handler(async (p: ContrastiveParams | undefined, token): Promise<ContrastiveResult> => {
      const [a, b] = [await sourceTexts(s, p?.setA, 'setA'), await sourceTexts(s, p?.setB, 'setB')];
      const model = await session(s);
      const labels = (await serverLabels(s, model).catch(() => null))?.labels;
      return findContrastiveExperts(model, a, b, {
        n: p!.n,
        randomDraws: p!.randomDraws,
        seed: p!.seed,
        maxTokens: state.settings.maxTokens,
        labels,
        isCancelled: () => token.isCancellationRequested,
      });
    }),
  );

  connection.onRequest(
    Methods.expertLabels,
    handler(async (): Promise<ExpertLabels> => (await serverLabels(s, await session(s)))?.labels ?? null),
  );

  connection.onRequest(
    Methods.expertUsage,
    handler(async (params: ExpertUsageParams | undefined): Promise<ExpertUsageResult> => {
      const { uri } = documentText(s, params, 'moeLens/expertUsage');
      return { uri, ...expertUsage(await currentRouting(s, uri)) };
    }),
  );

  connection.onRequest(
    SteeringMethods.nextTokenChange,
    handler(async (params: NextTokenChangeParams | undefined): Promise<NextTokenChangeResult> => {
      const { uri, text } = documentText(s, params, 'moeLens/nextTokenChange');
      const offset = requireOffset(params!.offset, text);
      const model = await session(s);
      // A notebook cell in context: the model reads the cells above first, as its routing does (cellContext.ts);
      // `start` and `first` map the combined text's offsets and token positions back to the cell's.
      const prefix = cellPrefix(s, uri);
      const cell = prefix && contextText(model.tokenizer, prefix.text, prefix.cells, text, model.info.contextLength);
      const enc = cell ? model.tokenizer.encode(cell.text) : await documentTokens(s, uri, offset, () => model.tokenizer.encode(text));
      const [start, first] = cell ? [cell.start, cell.prefixTokens] : [0, 0];
      const t = tokenAt(enc.offsets, offset + start);
      if (t < first) throw new ParamsError(`no token at offset ${offset}`);
      const rules = state.rules;
      const r = await nextTokenChange(model, enc.ids, t, rules);
      const named = (xs: { id: number; p: number }[]) => xs.map((x) => ({ ...x, text: model.tokenizer.tokenText(x.id) }));
      const range: [number, number] = [Math.max(0, enc.offsets[2 * t] - start), enc.offsets[2 * t + 1] - start];
      return { position: t - first, range, baseline: named(r.baseline), steered: named(r.steered), klNats: r.klNats, rulesActive: rules.length > 0 };
    }),
  );
}

// A stand-in for a serving engine on 127.0.0.1, started in the test process (node:http): no real vLLM or SGLang
// runs on these machines. It tokenises with a real tokenizer.json and answers in each engine's documented format
// (the fields and their sources are the ones server/model/remote/engines.ts cites), with routing from a formula the
// tests recompute: expert(id, layer, slot) = (31·id + 7·layer + 3·slot) mod E.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Tokenizer } from '@huggingface/tokenizers';

export const FIXTURE = { layers: 3, topK: 2, experts: 8, maxModelLen: 2048 };

export const fixtureExpert = (id: number, layer: number, slot: number): number => (31 * id + 7 * layer + 3 * slot) % FIXTURE.experts;

/**
 * normal: answer at once; hang: take requests and never answer; slow: answer routing after `slowMs`; fail: HTTP 500
 * with an OpenAI-style error body; unrouted: answer as an engine started without --enable-return-routed-experts.
 */
export type FixtureMode = 'normal' | 'hang' | 'slow' | 'fail' | 'unrouted';

export class EngineFixture {
  mode: FixtureMode = 'normal';
  slowMs = 2000;
  /** vLLM: answer with response-level `prompt_routed_experts` (PR #28284) or choices[0].routed_experts as .npy (vLLM main) */
  vllmShape: 'nested' | 'npy' = 'nested';
  /**
   * vLLM's prefix caching: rows of the longest prefix this engine has seen before come back as -1 (not recomputed,
   * so not recorded; issue 14). The last prompt token is always computed.
   */
  prefixCache = false;
  private readonly seen: number[][] = [];
  /** prompt rows the last routing answer marked -1 */
  lastCached = 0;
  /** every request: path and body */
  readonly requests: { path: string; body: Record<string, unknown> }[] = [];
  /** routing requests whose connection the client closed before an answer */
  aborted = 0;
  private readonly server: Server;
  private readonly tok: Tokenizer;
  private readonly pieces: string[] = [];

  constructor(readonly engine: 'vllm' | 'sglang', tokenizerFile: string) {
    const json = JSON.parse(readFileSync(tokenizerFile, 'utf8')) as { model: { vocab: Record<string, number> } };
    this.tok = new Tokenizer(json, {});
    for (const [piece, id] of Object.entries(json.model.vocab)) this.pieces[id] = piece;
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async listen(port = 0): Promise<string> {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  /** Another client's request: its prefix is in the engine's cache from now on. */
  remember(ids: number[]): void {
    this.seen.push(ids);
  }

  /** The ids the engine's tokenizer gives for text (what the routing is computed over). */
  ids(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
    const path = req.url ?? '';
    this.requests.push({ path, body });
    const send = (status: number, v: unknown) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v));
    };
    if (path === '/tokenize') {
      // vLLM TokenizeResponse: count, max_model_len, tokens, token_strs (return_token_strs: true);
      // SGLang: tokens, count, max_model_len.
      const ids = this.ids(String(body.prompt));
      return send(200, { count: ids.length, max_model_len: FIXTURE.maxModelLen, tokens: ids, ...(this.engine === 'vllm' && body.return_token_strs ? { token_strs: ids.map((i) => this.pieces[i]) } : {}) });
    }
    const routePath = this.engine === 'vllm' ? '/v1/completions' : '/generate';
    if (path !== routePath) return send(404, { error: { message: `no route ${path}` } });
    const prompt = (this.engine === 'vllm' ? body.prompt : body.input_ids) as number[];
    if (!Array.isArray(prompt) || prompt.length === 0) return send(400, { error: { message: 'empty prompt' } });
    if (this.mode === 'hang') return; // the socket stays open until the client gives up
    if (this.mode === 'fail') return send(500, { error: { message: 'CUDA out of memory', type: 'InternalServerError', code: 500 } });
    if (this.mode === 'slow') {
      const closed = new Promise<boolean>((r) => res.on('close', () => r(!res.writableEnded)));
      const waited = await Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), this.slowMs))]);
      if (waited || res.destroyed) {
        this.aborted++;
        return;
      }
    }
    const { layers: L, topK: K } = FIXTURE;
    let cached = 0;
    if (this.prefixCache) for (const p of this.seen) cached = Math.max(cached, commonPrefix(p, prompt));
    cached = Math.min(cached, prompt.length - 1);
    this.lastCached = cached;
    this.seen.push(prompt);
    const rows = prompt.map((id, t) => Array.from({ length: L }, (_, l) => Array.from({ length: K }, (_, k) => (t < cached ? -1 : fixtureExpert(id, l, k)))));
    const next = 42; // the one generated token
    if (this.engine === 'vllm') {
      const choice: Record<string, unknown> = { index: 0, text: ' x', finish_reason: 'length', token_ids: [next], prompt_token_ids: prompt };
      const answer: Record<string, unknown> = { id: 'cmpl-1', object: 'text_completion', created: 0, model: body.model ?? 'fixture', choices: [choice], usage: { prompt_tokens: prompt.length, completion_tokens: 1, total_tokens: prompt.length + 1 } };
      if (this.mode === 'unrouted') answer.prompt_routed_experts = null; // vLLM's answer without the flag
      else if (this.vllmShape === 'nested') answer.prompt_routed_experts = rows;
      else choice.routed_experts = npyBase64(rows.flat(2), [prompt.length, L, K]);
      return send(200, answer);
    }
    // SGLang: meta_info.routed_experts = base64 little-endian int32, (all tokens − 1) rows of L·K: the prompt's rows.
    const buf = Buffer.alloc(prompt.length * L * K * 4);
    rows.flat(2).forEach((e, i) => buf.writeInt32LE(e, 4 * i));
    return send(200, { text: ' x', output_ids: [next], meta_info: { id: 'req-1', finish_reason: { type: 'length', length: 1 }, prompt_tokens: prompt.length, completion_tokens: 1, cached_tokens: 0, routed_experts: buf.toString('base64') } });
  }
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** A .npy (format 1.0) of uint8 values, base64: what numpy2base64 in vLLM main writes for ids below 256. */
export function npyBase64(values: number[], shape: number[]): string {
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(values)]).toString('base64');
}

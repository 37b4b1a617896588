// Issue 12: the pure parts of the reliability fixes. Each `it` names the item it covers.
import assert from 'node:assert/strict';
import { escapeMarkdown, plainLabel } from '../../common/labelText';
import { visibleToken } from '../../common/tokens';
import { JobQueue } from '../../server/analysis/jobQueue';
import { FramingWatcher, MAX_MESSAGE_BYTES } from '../../server/lsp/framing';
import { VisibleOffsets } from '../../server/lsp/visibleOffsets';
import { routingOutputProblem } from '../../server/model/outputCheck';
import { isInside } from '../../server/model/modelFiles';
import { MAX_ABS_BIAS, SteeringError, validateRules } from '../../server/routing/expertBias';
import { RefreshCoalescer } from '../../extension/refreshCoalescer';

const info = { layers: 4, experts: 16, topK: 2 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('reliability: pure parts (issue 12)', () => {
  // Item 1: labels from a file reached the hover as raw Markdown (an image or a link rendered).
  it('item 1: escapeMarkdown leaves no link, image, HTML or autolink; plainLabel no codicon', () => {
    const evil = '![x](https://evil.example/a.png) [click](javascript:alert(1)) <img src=x> https://evil.example *b*\n# h';
    const md = escapeMarkdown(evil);
    assert.doesNotMatch(md, /(^|[^\\])[[\]()<>*#!]/, md);
    assert.doesNotMatch(md, /https:\/\//, 'a bare URL would be autolinked');
    assert.ok(!md.includes('\n'));
    assert.equal(md.replace(/\\(.)/g, '$1'), evil.replace('\n', ' '), 'unescaped, it is the same text');
    assert.equal(plainLabel('$(alert) run me\u0007'), '$\u200b(alert) run me ');
    // a token's text in a hover goes through the same escaper (common/tokens.ts escaped fewer characters: a token
    // "https://evil.example" or "www.evil.example" autolinked)
    for (const token of [evil, 'https://evil.example', 'mailto:a@evil.example', '&lt;img&gt;', '~~x~~']) {
      const shown = visibleToken(token);
      assert.doesNotMatch(shown, /(^|[^\\])[[\]()<>*#!:/@&~]/, shown);
      assert.equal(shown.replace(/\\(.)/g, '$1'), token.replace(/ /g, '·').replace(/\n/g, '↵'), 'unescaped, it is the token made visible');
    }
    assert.equal(plainLabel('x'.repeat(500)).length, 200);
  });

  // Item 5: a path that leaves the folder must be refused (pure part: the containment test).
  it('item 5: isInside refuses the folder itself, siblings with the same prefix and parents', () => {
    assert.ok(isInside('/m/model', '/m/model/tokenizer.json'));
    assert.ok(isInside('/m/model', '/m/model/profile/a.txt'));
    assert.ok(!isInside('/m/model', '/m/model'));
    assert.ok(!isInside('/m/model', '/m/model2/x'));
    assert.ok(!isInside('/m/model', '/m/x'));
    assert.ok(!isInside('/m/model', '/etc/passwd'));
  });

  // Item 6: NaN weights, ids 99 and −1 were accepted (per-run check, the same one the load probe uses).
  it('item 6: routingOutputProblem names non-finite logits, ids outside [0, E), weights outside [0, 1]', () => {
    const names = { routerLogits: 'router_logits', expertIds: 'expert_ids', expertWeights: 'expert_weights', tokenLogprobs: 'token_logprobs' };
    const ok = { routerLogits: new Float32Array([0.5, -3]), expertIds: new Int32Array([0, 15]), expertWeights: new Float32Array([0.7, 0.3]), tokenLogprobs: new Float32Array([0, -2, -Infinity]) };
    assert.equal(routingOutputProblem(ok, 16, names), undefined);
    assert.match(routingOutputProblem({ ...ok, expertWeights: new Float32Array([NaN, 0.3]) }, 16, names)!, /expert_weights.*NaN/);
    assert.match(routingOutputProblem({ ...ok, expertWeights: new Float32Array([1.5, 0.3]) }, 16, names)!, /gate weight 1\.5/);
    assert.match(routingOutputProblem({ ...ok, expertIds: new Int32Array([99, 0]) }, 16, names)!, /expert id 99 .*outside 0–15/);
    assert.match(routingOutputProblem({ ...ok, expertIds: new Int32Array([0, -1]) }, 16, names)!, /expert id -1/);
    assert.match(routingOutputProblem({ ...ok, expertIds: new BigInt64Array([0n, 16n]) }, 16, names)!, /expert id 16/);
    assert.match(routingOutputProblem({ ...ok, routerLogits: new Float32Array([Infinity, 0]) }, 16, names)!, /router_logits.*Infinity/);
    assert.match(routingOutputProblem({ ...ok, tokenLogprobs: new Float32Array([NaN]) }, 16, names)!, /token_logprobs/);
  });

  // Item 7: the analysis queue ran in arrival order; obsolete and on-screen work now go first.
  it('item 7: JobQueue runs the lowest priority first, ties in arrival order, one at a time', async () => {
    const order: string[] = [];
    let running = 0;
    const q = new JobQueue();
    const job = (name: string) => async () => {
      assert.equal(++running, 1, 'one job at a time');
      order.push(name);
      await sleep(5);
      running--;
      return name;
    };
    const first = q.run(job('first'), () => 2); // starts at once
    const jobs = [q.run(job('a'), () => 2), q.run(job('visible'), () => 1), q.run(job('b'), () => 2), q.run(job('obsolete'), () => 0)];
    await Promise.all([first, ...jobs]);
    assert.deepEqual(order, ['first', 'obsolete', 'visible', 'a', 'b']);
    await assert.rejects(q.run(async () => Promise.reject(new Error('boom')), () => 0), /boom/);
    assert.equal(await q.run(async () => 'after a failure', () => 0), 'after a failure');
  });

  // Item 7: the extension re-requested on every routingChanged, bypassing its debounce.
  it('item 7: RefreshCoalescer turns a burst of routingChanged into one fetch (complete wins over partial)', async () => {
    const fetched: [string, boolean][] = [];
    let release!: () => void;
    const c = new RefreshCoalescer(async (uri, partial) => {
      fetched.push([uri, partial]);
      if (fetched.length === 2) await new Promise<void>((r) => (release = r));
    }, 20);
    for (let i = 0; i < 100; i++) c.notify('a', i % 3 !== 0);
    await sleep(60);
    assert.deepEqual(fetched, [['a', false]]);
    c.notify('a', true);
    await sleep(40); // second fetch starts and blocks
    for (let i = 0; i < 50; i++) c.notify('a', true);
    await sleep(40);
    assert.equal(fetched.length, 2, 'no second fetch while one is in flight');
    release();
    await sleep(60);
    assert.deepEqual(fetched.slice(2), [['a', true]], 'one more after the one in flight');
    c.clear();
  });

  // Item 8: all 16 experts of a layer could be disabled; a bias of 1e39 passed as finite.
  it('item 8: fewer than topK selectable experts in a layer, or |bias| > 1e6, is refused naming layer and rule', () => {
    const all = Array.from({ length: 16 }, (_, e) => ({ layer: 2, expert: e, mode: 'disable' }));
    assert.throws(() => validateRules(all, info), (e: Error) => e instanceof SteeringError && /rule 14 .*layer 2 would keep only 1 selectable experts/.test(e.message));
    assert.equal(validateRules(all.slice(0, 14), info).length, 14, 'topK experts left is fine');
    const star = [...Array.from({ length: 14 }, (_, e) => ({ layer: '*', expert: e, mode: 'disable' })), { layer: 3, expert: 14, mode: 'disable' }];
    assert.throws(() => validateRules(star, info), /layer 3 would keep only 1/);
    assert.throws(() => validateRules([{ layer: 0, expert: 1, mode: 'bias', bias: 1e39 }], info), (e: Error) => /rule 0 .*beyond ±1000000/.test(e.message));
    assert.throws(() => validateRules([{ layer: 0, expert: 1, mode: 'bias', bias: -2e6 }], info), /bias limit/);
    assert.equal(validateRules([{ layer: 0, expert: 1, mode: 'bias', bias: -MAX_ABS_BIAS }], info).length, 1);
  });

  // Item 10: a bad Content-Length left the server alive and deaf.
  it('item 10: FramingWatcher accepts real traffic and names the first broken frame', () => {
    const msg = (body: string) => Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const w = new FramingWatcher();
    const stream = Buffer.concat([msg('{"a":1}'), msg('{"b":"é😀"}'), Buffer.from('Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n'), msg('{}')]);
    for (let i = 0; i < stream.length; i += 3) assert.equal(w.push(stream.subarray(i, i + 3)), undefined);
    assert.match(new FramingWatcher().push(Buffer.from('Content-Length: abc\r\n\r\n{}'))!, /"abc" is not a number/);
    assert.match(new FramingWatcher().push(Buffer.from('X-Other: 1\r\n\r\n{}'))!, /without Content-Length/);
    assert.match(new FramingWatcher().push(Buffer.from(`Content-Length: ${MAX_MESSAGE_BYTES + 1}\r\n\r\n`))!, /larger than/);
    assert.match(new FramingWatcher().push(Buffer.from('x'.repeat(9000)))!, /header of more than/);
  });

  // Item 11: visibleRanges for 200k never-opened uris kept 138 MB.
  it('item 11: VisibleOffsets keeps open documents, a few about to open, and nothing else', () => {
    const open = new Set(['file:///a']);
    const v = new VisibleOffsets((u) => open.has(u));
    for (let i = 0; i < 200000; i++) v.note({ uri: `file:///never/${i}`, ranges: [[i, i + 1]] });
    v.note({ uri: 'file:///a', ranges: [[42, 50]] });
    v.note({ uri: 'file:///a', ranges: 'junk' });
    assert.ok(v.size <= 65, `${v.size} entries`);
    assert.equal(v.get('file:///a'), 42);
    v.note({ uri: 'file:///b', ranges: [[7, 9]] });
    open.add('file:///b');
    v.opened('file:///b');
    assert.equal(v.get('file:///b'), 7, 'ranges sent just before didOpen are kept');
    v.closed('file:///a');
    assert.equal(v.get('file:///a'), undefined);
  });
});

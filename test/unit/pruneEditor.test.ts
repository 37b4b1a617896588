// The editor side of pruning and offloading, pure parts: the CLI's --progress json lines, the checks the results pass
// before the panel draws them, the panel messages, the command lines the extension runs (read back by the CLI's own
// parser), the progress fraction, and a pruning turned into steering rules.
import assert from 'node:assert/strict';
import { curveSteps, parsePruneEvent, pruneFraction, type PruneProgressEvent } from '../../common/pruneEvents';
import type { ImportanceResult, OffloadResult, PruneResult } from '../../common/pruneProtocol';
import { isImportanceResult, isOffloadResult, isPruneResult } from '../../common/pruneValidation';
import type { SteeringRule } from '../../common/protocol';
import { ruleFor, withPruning } from '../../common/steeringRules';
import { parseHostMessage, parseWebviewMessage } from '../../common/webviewMessages';
import { documentSource, importanceArgs, offloadArgs, pruneArgs, type OpenDocument, type PruneRequest } from '../../extension/prune/pruneCliArgs';
import { parsePruneArgs, PruneUsageError } from '../../server/cli/pruneArgs';
import { parseInlineTexts } from '../../server/cli/stdinTexts';
import { translucent } from '../../webview/theme';

// Shapes of a model with L = 2 layers and E = 4 experts (inputs to the validators, not expected outputs).
const L = 2;
const E = 4;
const point = (keptFraction: number, bits: number) => ({ keptFraction, kept: keptFraction * E, bitsPerToken: bits, frequencyBitsPerToken: bits + 0.1, randomBitsPerToken: { mean: bits + 0.3, sd: 0.05, draws: [bits + 0.25, bits + 0.35] } });
const prune = (): PruneResult => ({
  baselineBitsPerToken: 5, threshold: 0.75, tolerance: 0.02, criterion: 'reap', keep: 3, out: null, disabled: [[0, 1], [1, 3]],
  curve: [point(1, 5), point(0.75, 5.05), point(0.5, 5.6)], tokens: { corpus: 100, eval: 50 }, warnings: [],
});
const importance = (): ImportanceResult => ({ criterion: 'reap', tokens: 100, scores: [[1, 2, 3, 4], [4, 3, 2, 1]] });
const offload = (): OffloadResult => ({ segment: 16, schCache: 2, expertBytes: 1024, tokens: 100, layers: [0, 1].map((layer) => ({ layer, srp: 0.4, sch: 0.6, lruHitRate: [0.1, 0.3, 0.6, 0.9], bytesPerToken: [900, 700, 400, 100] })) });

describe('pruning in the editor: results, events, messages', () => {
  it('accepts the three results and rejects those a chart could not draw', () => {
    assert.ok(isPruneResult(prune()) && isImportanceResult(importance()) && isOffloadResult(offload()));
    const bad: [string, unknown, (x: unknown) => boolean][] = [
      ['NaN bits', { ...prune(), curve: [{ ...point(1, 5), bitsPerToken: NaN }] }, isPruneResult],
      ['no curve', { ...prune(), curve: [] }, isPruneResult],
      ['no keep', { ...prune(), keep: undefined }, isPruneResult],
      ['threshold above 1', { ...prune(), threshold: 1.5 }, isPruneResult],
      ['a pair of three', { ...prune(), disabled: [[0, 1, 2]] }, isPruneResult],
      ['negative sd', { ...prune(), curve: [{ ...point(1, 5), randomBitsPerToken: { mean: 5, sd: -1, draws: [] } }] }, isPruneResult],
      ['unknown criterion', { ...prune(), criterion: 'magic' }, isPruneResult],
      ['ragged scores', { ...importance(), scores: [[1, 2, 3, 4], [1, 2]] }, isImportanceResult],
      ['no layers', { ...importance(), scores: [] }, isImportanceResult],
      ['hit rates of two lengths', { ...offload(), layers: [offload().layers[0], { ...offload().layers[1], lruHitRate: [0.5] }] }, isOffloadResult],
      ['hit rate above 1', { ...offload(), layers: [{ ...offload().layers[0], lruHitRate: [0.1, 0.3, 0.6, 1.2] }] }, isOffloadResult],
      ['bytes of another length', { ...offload(), layers: [{ ...offload().layers[0], bytesPerToken: [1] }] }, isOffloadResult],
    ];
    for (const [why, x, check] of bad) assert.equal(check(x), false, why);
  });

  it('parses --progress json lines; anything malformed is not an event', () => {
    assert.deepEqual(parsePruneEvent('{"event":"progress","phase":"measuring","done":3,"total":9,"message":"m"}'), { event: 'progress', phase: 'measuring', done: 3, total: 9, message: 'm' });
    assert.equal(parsePruneEvent(JSON.stringify({ event: 'done', command: 'prune', result: prune() }))?.event, 'done');
    assert.equal(parsePruneEvent(JSON.stringify({ event: 'done', command: 'offload', result: offload() }))?.event, 'done');
    assert.deepEqual(parsePruneEvent('{"event":"error","message":"--corpus x: the glob matches no file"}'), { event: 'error', message: '--corpus x: the glob matches no file' });
    for (const line of ['', 'profiling…', '{', '[1]', '{"event":"progress","phase":"x","done":1,"total":2,"message":""}', '{"event":"progress","phase":"profiling","done":3,"total":2,"message":""}',
      JSON.stringify({ event: 'done', command: 'prune', result: offload() }), JSON.stringify({ event: 'done', command: 'eval', result: prune() }), '{"event":"error"}']) {
      assert.equal(parsePruneEvent(line), undefined, line);
    }
  });

  it('the progress fraction never goes back over a prune run, and ends at 1 for profiling-only commands', () => {
    const ev = (phase: PruneProgressEvent['phase'], done: number, total: number): PruneProgressEvent => ({ event: 'progress', phase, done, total, message: '' });
    const run = [ev('profiling', 0, 2), ev('profiling', 2, 2), ev('measuring', 1, curveSteps(6, 5, false, true)), ev('measuring', curveSteps(6, 5, false, true), curveSteps(6, 5, false, true)), ev('exporting', 0, 1)];
    const f = run.map((p) => pruneFraction('prune', p));
    for (let i = 1; i < f.length; i++) assert.ok(f[i] >= f[i - 1], `${f[i - 1]} then ${f[i]}`);
    assert.ok(f[f.length - 1] < 1);
    assert.equal(pruneFraction('offload', ev('profiling', 4, 4)), 1);
    assert.equal(curveSteps(6, 5, true, false), 1 + 6 * 6);
  });

  it('panel messages: a pruning (with importance of the same model) and an offload; pruneAction only with a known action', () => {
    assert.equal(parseHostMessage({ type: 'pruning', result: prune(), importance: importance(), caption: 'c' })?.type, 'pruning');
    assert.equal(parseHostMessage({ type: 'pruning', result: prune(), caption: 'c', exported: 'm-reap-3of4', quiet: true })?.type, 'pruning');
    assert.equal(parseHostMessage({ type: 'offload', result: offload(), caption: 'c' })?.type, 'offload');
    assert.equal(parseHostMessage({ type: 'pruning', result: { ...prune(), disabled: [[5, 0]] }, importance: importance(), caption: 'c' }), undefined, 'a pruned layer the importance lacks');
    assert.equal(parseHostMessage({ type: 'pruning', result: prune(), importance: { ...importance(), scores: [[1]] }, caption: 'c' }), undefined, 'a pruned expert the importance lacks');
    assert.equal(parseHostMessage({ type: 'pruning', result: prune() }), undefined, 'no caption');
    assert.equal(parseHostMessage({ type: 'offload', result: offload(), caption: 'c', quiet: 'yes' }), undefined);
    assert.deepEqual(parseWebviewMessage({ type: 'pruneAction', action: 'export', extra: 1 }), { type: 'pruneAction', action: 'export' });
    assert.equal(parseWebviewMessage({ type: 'pruneAction', action: 'rm -rf' }), undefined);
  });

  it('the command lines the extension runs mean what it asked, read back by the CLI\'s parser', () => {
    const r: PruneRequest = { model: '/models/m', corpus: ['/w/a.py', '/w/b.py'], eval: ['/w/c.py'], contrast: ['/w/d.md'], criterion: 'deltaP', tolerance: 0.05, keep: 'auto', merge: true, draws: 3 };
    const a = parsePruneArgs(pruneArgs(r, '/s/model').args);
    assert.deepEqual([a.command, a.model, a.corpus, a.eval, a.contrast, a.criterion, a.tolerance, a.keepAuto, a.keep, a.merge, a.draws, a.out, a.progressJson], ['prune', '/models/m', r.corpus, r.eval, r.contrast, 'deltaP', 0.05, true, undefined, true, 3, '/s/model', true]);
    const fixed = parsePruneArgs(pruneArgs({ ...r, model: undefined, criterion: 'frequency', keep: 6, merge: false }).args);
    assert.deepEqual([fixed.model, fixed.keep, fixed.keepAuto, fixed.contrast, fixed.merge, fixed.out], [undefined, 6, false, [], false, undefined]);
    const imp = parsePruneArgs(importanceArgs(r).args);
    assert.deepEqual([imp.command, imp.corpus, imp.contrast, imp.criterion, imp.progressJson], ['importance', r.corpus, r.contrast, 'deltaP', true]);
    const off = parsePruneArgs(offloadArgs({ corpus: ['/w/a.py'], segment: 8 }).args);
    assert.deepEqual([off.command, off.corpus, off.segment, off.progressJson], ['offload', ['/w/a.py'], 8, true]);
    assert.throws(() => parsePruneArgs(['prune', '--corpus', 'a', '--eval', 'b', '--keep', 'auto', '--keep', '3']), /exactly one of/);
    assert.throws(() => parsePruneArgs(['offload', '--corpus', 'a', '--progress', 'xml']), /--progress must be text or json/);
  });

  it('open editors: a saved file by path, an untitled or unsaved one as inline text named on the command line, its text only on stdin', () => {
    const doc = (o: Partial<OpenDocument>): OpenDocument => ({ uri: 'file:///w/a.py', scheme: 'file', fileName: '/w/a.py', isUntitled: false, isDirty: false, getText: () => 'saved text', ...o });
    assert.equal(documentSource(doc({})), '/w/a.py');
    const dirty = documentSource(doc({ isDirty: true, getText: () => 'edited, not saved' }));
    const untitled = documentSource(doc({ uri: 'untitled:Untitled-1', scheme: 'untitled', fileName: 'Untitled-1', isUntitled: true, getText: () => 'def draft(): pass' }));
    assert.deepEqual([dirty, untitled], [{ name: 'file:///w/a.py', text: 'edited, not saved' }, { name: 'untitled:Untitled-1', text: 'def draft(): pass' }]);
    const r: PruneRequest = { corpus: ['/w/b.py', untitled], eval: [dirty, untitled], criterion: 'reap', tolerance: 0.02, keep: 'auto', merge: false, draws: 2 };
    const call = pruneArgs(r);
    assert.ok(!call.args.some((x) => x.includes('draft') || x.includes('edited')), 'no text on the command line');
    const a = parsePruneArgs(call.args);
    assert.deepEqual([a.corpus, a.corpusText, a.eval, a.evalText], [['/w/b.py'], ['untitled:Untitled-1'], [], ['file:///w/a.py', 'untitled:Untitled-1']]);
    const texts = parseInlineTexts(call.stdin!);
    assert.deepEqual([...texts], [['untitled:Untitled-1', 'def draft(): pass'], ['file:///w/a.py', 'edited, not saved']], 'each text once');
    assert.equal(pruneArgs({ ...r, corpus: ['/w/b.py'], eval: ['/w/c.py'] }).stdin, undefined, 'files only: nothing on stdin');
    assert.deepEqual([...parseInlineTexts(importanceArgs(r).stdin!).keys()], ['untitled:Untitled-1'], 'importance sends the corpus only');
    assert.deepEqual(parsePruneArgs(offloadArgs({ corpus: [untitled] }).args).corpusText, ['untitled:Untitled-1']);
  });

  it('stdin texts: what is not InlineTexts is refused naming the field, never quoting the text', () => {
    const bad = (json: string, re: RegExp) => assert.throws(() => parseInlineTexts(json), (e: Error) => e instanceof PruneUsageError && re.test(e.message) && !e.message.includes('secret'));
    bad('secret', /not JSON/);
    bad('{"format":"other","texts":[]}', /"format" must be "moe-lens-texts\/1"/);
    bad('{"format":"moe-lens-texts/1"}', /"texts" must be an array/);
    bad('{"format":"moe-lens-texts/1","texts":[{"name":"","text":"secret"}]}', /texts\[0\]\.name/);
    bad('{"format":"moe-lens-texts/1","texts":[{"name":"a","text":7}]}', /texts\[0\]\.text must be a string/);
    bad('{"format":"moe-lens-texts/1","texts":[{"name":"a","text":"secret"},{"name":"a","text":"x"}]}', /two texts are named a/);
    assert.throws(() => parsePruneArgs(['prune', '--corpus-text', 'a', '--keep', 'auto']), /--eval GLOB or --eval-text NAME/);
    assert.throws(() => parsePruneArgs(['importance', '--corpus-text', 'a', 'b.py']), /unexpected argument b\.py/);
    assert.throws(() => parsePruneArgs(['eval', 'a.py', '--eval-text', 'x']), /eval reads FILE… only/);
  });

  it('a pruning as steering: each pruned pair disabled at its layer, an all-layers rule split, other rules kept', () => {
    const before: SteeringRule[] = [{ layer: '*', expert: 1, mode: 'force' }, { layer: 1, expert: 2, mode: 'bias', bias: 2 }, { layer: 1, expert: 3, mode: 'force' }];
    const after = withPruning(before, L, [[0, 1], [1, 3]]);
    assert.equal(ruleFor(after, 0, 1)?.mode, 'disable');
    assert.equal(ruleFor(after, 1, 1)?.mode, 'force', 'the "*" force stays at the other layer');
    assert.equal(ruleFor(after, 1, 3)?.mode, 'disable');
    assert.equal(ruleFor(after, 1, 2)?.mode, 'bias');
    assert.ok(!after.some((r) => r.layer === '*'));
    assert.equal(after.filter((r) => r.mode === 'disable').length, 2);
  });

  it('translucent fills for the random band', () => {
    assert.equal(translucent('#1a85ff', 0.25), 'rgba(26,133,255,0.25)');
    assert.equal(translucent('#fff', 0.5), 'rgba(255,255,255,0.5)');
    assert.equal(translucent('#71717180', 0.3), 'rgba(113,113,113,0.3)');
    assert.equal(translucent('rgb(1,2,3)', 0.3), 'rgb(1,2,3)');
  });
});

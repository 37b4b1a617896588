// Extension-host tests of the steering features: presets and steering files, the contrastive expert finder, the
// continuation diff, the next-token hover and expert labels — all through the extension's commands, on the embedded
// model, in a real editor.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { EXT, until } from './support';
import type { ContrastiveResult, GenerateResult, SteeringRule } from '../../common/protocol';
import { escapeMarkdown } from '../../common/labelText';

interface DebugState {
  rules: SteeringRule[];
  labels: string[][] | null;
}
const state = async () => (await vscode.commands.executeCommand('moeLens._debugState')) as DebugState;
const hoverText = async (uri: vscode.Uri, pos: vscode.Position) => {
  const h = (await vscode.commands.executeCommand('vscode.executeHoverProvider', uri, pos)) as vscode.Hover[];
  return h.flatMap((x) => x.contents).map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value)).join('\n');
};
const profile = (domain: string) => readFileSync(join(vscode.extensions.getExtension(EXT)!.extensionPath, 'media', 'model', 'profile', `${domain}.txt`), 'utf8');

suite('MoE Lens steering features in the extension host', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-steering-'));

  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXT)!.activate();
    await until(async () => (await vscode.commands.executeCommand('moeLens._debugState')) && true);
  });
  teardown(() => vscode.commands.executeCommand('moeLens.resetAllExperts'));

  test('presets: save, reset, load gives the same rules back; delete removes the preset', async () => {
    const rules: SteeringRule[] = [{ layer: 0, expert: 3, mode: 'disable' }, { layer: 2, expert: 5, mode: 'bias', bias: 1.5 }];
    await vscode.commands.executeCommand('moeLens.disableExpert', { layer: 0, expert: 3 });
    await vscode.commands.executeCommand('moeLens.biasExpert', { layer: 2, expert: 5, bias: 1.5 });
    assert.deepEqual((await state()).rules, rules);
    assert.equal(await vscode.commands.executeCommand('moeLens.savePreset', 'two rules'), 'two rules');
    await vscode.commands.executeCommand('moeLens.resetAllExperts');
    assert.deepEqual((await state()).rules, []);
    assert.equal(await vscode.commands.executeCommand('moeLens.loadPreset', 'two rules'), true);
    assert.deepEqual((await state()).rules, rules);
    assert.equal(await vscode.commands.executeCommand('moeLens.deletePreset', 'two rules'), true);
    assert.equal(await vscode.commands.executeCommand('moeLens.loadPreset', 'two rules'), false);
  });

  test('steering files: export then import round-trips; a plain list imports; a bad file changes nothing', async () => {
    await vscode.commands.executeCommand('moeLens.forceExpert', { layer: 1, expert: 2 });
    const file = vscode.Uri.file(join(tmp, 'steering.json'));
    await vscode.commands.executeCommand('moeLens.exportSteering', file);
    const written = JSON.parse(readFileSync(file.fsPath, 'utf8'));
    assert.deepEqual(written.actions, [{ layer: 1, expert: 2, action: 'force' }]);
    await vscode.commands.executeCommand('moeLens.resetAllExperts');
    assert.equal(await vscode.commands.executeCommand('moeLens.importSteering', file), true);
    assert.deepEqual((await state()).rules, [{ layer: 1, expert: 2, mode: 'force' }]);

    const plain = join(tmp, 'plain.json');
    writeFileSync(plain, JSON.stringify([[0, 7, 'disable'], ['all', 9, 'disable']]));
    assert.equal(await vscode.commands.executeCommand('moeLens.importSteering', vscode.Uri.file(plain)), true);
    assert.deepEqual((await state()).rules, [{ layer: 0, expert: 7, mode: 'disable' }, { layer: '*', expert: 9, mode: 'disable' }]);

    for (const [name, body] of [['bad.json', '[[0, 7, "explode"]]'], ['range.json', '[[0, 999, "disable"]]'], ['toomany.json', '[[0, 1, "force"], [0, 2, "force"], [0, 3, "force"]]']]) {
      writeFileSync(join(tmp, name), body);
      assert.equal(await vscode.commands.executeCommand('moeLens.importSteering', vscode.Uri.file(join(tmp, name))), false, name);
      assert.deepEqual((await state()).rules, [{ layer: 0, expert: 7, mode: 'disable' }, { layer: '*', expert: 9, mode: 'disable' }], `${name} changed the state`);
    }
  });

  test('expert labels arrive from the server and show in the routing hover', async () => {
    const labels = await until(async () => (await state()).labels ?? undefined);
    assert.equal(labels.length, 4);
    assert.equal(labels[0].length, 16);
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: 'import os\nprint(os.getcwd())\n' });
    await vscode.window.showTextDocument(doc);
    const md = await until(async () => {
      const t = await hoverText(doc.uri, new vscode.Position(0, 2));
      return /\| 0 \| E\d+/.test(t) ? t : undefined;
    });
    const row = md.split('\n').find((l) => l.startsWith('| 0 |'))!;
    const e = Number(/E(\d+)/.exec(row)![1]);
    // the hover escapes Markdown in labels (common/labelText.ts), so compare with the escaped form
    assert.ok(row.includes(escapeMarkdown(labels[0][e]).slice(0, 12)), `hover row "${row}" lacks the label "${labels[0][e]}"`);
  });

  test('contrastive finder: python vs markdown ranks by ΔP, reports the random baseline, disables the top N', async () => {
    const r = (await vscode.commands.executeCommand('moeLens.findContrastiveExperts', {
      setA: [{ text: profile('python') }],
      setB: [{ text: profile('markdown') }],
      n: 4,
      randomDraws: 3,
      seed: 1,
      apply: 'disable',
    })) as ContrastiveResult;
    assert.ok(r, 'no result');
    for (let i = 1; i < r.rows.length; i++) assert.ok(r.rows[i - 1].deltaP >= r.rows[i].deltaP, 'rows not sorted by ΔP');
    assert.equal(r.measure.random.length, 3);
    const top = r.rows.filter((x) => x.deltaP > 0).slice(0, 4).map((x) => ({ layer: x.layer, expert: x.expert, mode: 'disable' }));
    assert.deepEqual((await state()).rules, top);
  });

  test('compare continuation: a diff of two read-only documents, deterministic greedy output, steering changes it', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: 'def fib(n):\n    if n < 2:\n        return n\n    return ' });
    await vscode.window.showTextDocument(doc);
    const offset = doc.getText().length;
    const run = async () => (await vscode.commands.executeCommand('moeLens.compareContinuation', { uri: doc.uri.toString(), offset, maxNewTokens: 16, quiet: true })) as GenerateResult;
    const plain = await run();
    assert.ok(plain.baseline.length > 0);
    assert.equal(plain.firstDivergence, -1, 'without steering both sides must be equal');
    // Disable, at every layer, the expert this prompt uses most at layer 0: the continuation must change.
    const routing = (await vscode.commands.executeCommand('moeLens._debugUsage', doc.uri.toString())) as number[][];
    const most = routing[0].indexOf(Math.max(...routing[0]));
    await vscode.commands.executeCommand('moeLens.disableExpert', { layer: '*', expert: most });
    const steered = await run();
    assert.equal(steered.baseline, plain.baseline, 'greedy baseline is deterministic');
    assert.notEqual(steered.firstDivergence, -1, 'disabling the most used expert everywhere changed nothing');
    const tab = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.scheme === 'moe-lens-continuation');
    assert.ok(tab, 'no continuation diff editor');
    const input = tab!.input as vscode.TabInputTextDiff;
    const right = vscode.workspace.textDocuments.find((d) => d.uri.toString() === input.modified.toString());
    assert.ok(right, 'steered document not open');
    await until(() => right!.getText() === steered.steered || undefined, 10000);
  });

  test('with steering active the hover shows the next-token change', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'The quick brown fox jumps over the lazy dog.\n' });
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('moeLens.disableExpert', { layer: '*', expert: 1 });
    const md = await until(async () => {
      const t = await hoverText(doc.uri, new vscode.Position(0, 5));
      return /Next token after this one/.test(t) ? t : undefined;
    });
    assert.match(md, /KL\(baseline ‖ steered\) = \d+\.\d{3} nats/);
    assert.match(md, /\| 1 \| \*\*.+\*\* \d+\.\d% \| \*\*.+\*\* \d+\.\d% \|/);
  });
});

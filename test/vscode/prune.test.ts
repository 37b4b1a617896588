// Extension-host tests of "Prune Experts for a Corpus…" (then Apply as Steering, Export Pruned Model…, Use Exported
// Model) and "Expert Offloading…": the commands with arguments instead of pickers, the CLI in a child process on the
// embedded model, on the workspace's sample files.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { SteeringRule } from '../../common/protocol';
import type { OffloadResult, PruneResult } from '../../common/pruneProtocol';
import { EXT, until } from './support';

const state = async () => (await vscode.commands.executeCommand('moeLens._debugState')) as { rules: SteeringRule[] };

suite('MoE Lens pruning and offloading in the extension host', () => {
  const ws = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
  let exported: string | undefined;
  let pruned: PruneResult | undefined;
  const manifest = () => JSON.parse(readFileSync(join(vscode.extensions.getExtension(EXT)!.extensionPath, 'media', 'model', 'moe.json'), 'utf8')) as { layers: number; experts: number };

  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXT)!.activate();
    await until(async () => (await vscode.commands.executeCommand('moeLens._debugState')) && true);
  });
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('moeLens.resetAllExperts');
    await vscode.workspace.getConfiguration('moeLens').update('modelPath', undefined, vscode.ConfigurationTarget.Global);
    if (exported) rmSync(exported, { recursive: true, force: true });
  });

  test('prune for a corpus: the curve with the threshold; Apply as Steering disables exactly the pruned experts', async () => {
    await vscode.commands.executeCommand('moeLens.resetAllExperts');
    const r = (await vscode.commands.executeCommand('moeLens.pruneExperts', { corpus: [join(ws(), 'fib.py')], eval: [join(ws(), 'server.ts')], criterion: 'frequency', tolerance: 0.02, merge: false, draws: 2 })) as PruneResult | undefined;
    assert.ok(r, 'a result');
    pruned = r;
    assert.equal(r.curve.find((p) => p.keptFraction === r.threshold)?.kept, r.keep);
    assert.equal(await vscode.commands.executeCommand('moeLens.applyPruningAsSteering'), true);
    const rules = (await state()).rules;
    assert.deepEqual(rules.map((x) => [x.layer, x.expert, x.mode]).sort(), r.disabled.map(([l, e]) => [l, e, 'disable']).sort());
  });

  test('Export Pruned Model… writes the same pruning into global storage; Use Exported Model selects it', async () => {
    exported = (await vscode.commands.executeCommand('moeLens.exportPrunedModel')) as string | undefined;
    assert.ok(exported, 'an exported folder');
    const m = JSON.parse(readFileSync(join(exported, 'moe.json'), 'utf8')) as { experts: number };
    assert.equal(m.experts, pruned!.keep);
    assert.equal((await state()).rules.length, manifest().layers * (manifest().experts - m.experts), 'as many experts removed as the steering disabled');
    assert.ok(exported.includes(join('models', '')), exported);
    await vscode.commands.executeCommand('moeLens.useExportedModel');
    assert.equal(vscode.workspace.getConfiguration('moeLens').get('modelPath'), exported);
  });

  test('Expert Offloading…: the LRU curve per layer on a corpus', async () => {
    await vscode.workspace.getConfiguration('moeLens').update('modelPath', undefined, vscode.ConfigurationTarget.Global);
    const r = (await vscode.commands.executeCommand('moeLens.expertOffloading', { corpus: [join(ws(), 'fib.py'), join(ws(), 'server.ts')] })) as OffloadResult | undefined;
    assert.ok(r, 'a result');
    assert.equal(r.layers.length, manifest().layers);
    assert.ok(r.layers.every((l) => l.lruHitRate.length === manifest().experts && l.lruHitRate.every((h, c) => c === 0 || h >= l.lruHitRate[c - 1] - 1e-12)));
  });

  test('an untitled editor as the corpus: its text through the child\'s stdin gives what the same text as a file gives', async () => {
    const file = join(ws(), 'fib.py');
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: readFileSync(file, 'utf8') });
    assert.equal(doc.isUntitled, true);
    const fromFile = (await vscode.commands.executeCommand('moeLens.expertOffloading', { corpus: [file] })) as OffloadResult | undefined;
    const inline = (await vscode.commands.executeCommand('moeLens.expertOffloading', { corpus: [{ name: doc.uri.toString(), text: doc.getText() }] })) as OffloadResult | undefined;
    assert.ok(inline, 'a result');
    assert.deepEqual(inline, fromFile);
  });
});

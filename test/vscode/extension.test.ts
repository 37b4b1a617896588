// Extension-host tests: run inside a real VS Code (test/vscode/runTests.mjs with @vscode/test-electron where VS Code
// can be downloaded or is installed). They use only the public vscode API and the extension's debug command.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { DEBUG_COMMAND_IDS } from '../../extension/commandIds';
import { EXT, until } from './support';

suite('MoE Lens in the extension host', () => {
  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXT)!.activate();
  });

  test("every command in package.json and every debug command is registered", async () => {
    const all = await vscode.commands.getCommands(true);
    const contributed = (vscode.extensions.getExtension(EXT)!.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    for (const c of [...contributed, ...DEBUG_COMMAND_IDS]) assert.ok(all.includes(c), `${c} missing`);
  });

  test('opening a document decorates it and the hover lists layers and experts', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: 'def area(r):\n    return 3.14159 * r * r\n' });
    await vscode.window.showTextDocument(doc);
    const state = await until(async () => {
      const s = (await vscode.commands.executeCommand('moeLens._debugState')) as { decorations: Record<string, number>; status: string };
      return (s.decorations[doc.uri.toString()] ?? 0) > 0 ? s : undefined;
    });
    assert.match(state.status, /cpu/);
    const hoverMd = (want: RegExp) => until(async () => {
      const h = (await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, new vscode.Position(0, 5))) as vscode.Hover[];
      const md = h.flatMap((x) => x.contents).map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value)).join('\n');
      return want.test(md) ? md : undefined;
    });
    // compact by default (moeLens.hover.layers): the heatmap's layer, and a link to the rest
    const compact = await hoverMd(/\| 0 \| E\d+ \(\d\.\d\d\)/);
    assert.doesNotMatch(compact, /\| 3 \| E\d+/);
    assert.match(compact, /1 of 4 layers · \[all layers\]\(command:moeLens\.toggleHoverLayers/);
    await vscode.commands.executeCommand('moeLens.toggleHoverLayers');
    try {
      const all = await hoverMd(/\| 3 \| E\d+/);
      assert.match(all, /\| 0 \| E\d+ \(\d\.\d\d\)/);
    } finally {
      await vscode.commands.executeCommand('moeLens.toggleHoverLayers');
    }
  });

  test('disabling an expert through the command changes the steering state', async () => {
    await vscode.commands.executeCommand('moeLens.disableExpert', { layer: 0, expert: 3 });
    const s = (await vscode.commands.executeCommand('moeLens._debugState')) as { rules: unknown[] };
    assert.deepEqual(s.rules, [{ layer: 0, expert: 3, mode: 'disable' }]);
    await vscode.commands.executeCommand('moeLens.resetAllExperts');
  });

  test('heatmap metric "off" removes the decorations, "entropy" paints them again', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'The quick brown fox jumps over the lazy dog.\n' });
    await vscode.window.showTextDocument(doc);
    const uri = doc.uri.toString();
    const count = async () => ((await vscode.commands.executeCommand('moeLens._debugDecorationCounts')) as Record<string, number>)[uri];
    await until(async () => ((await count()) ?? 0) > 0);
    const cfg = vscode.workspace.getConfiguration('moeLens');
    try {
      await cfg.update('heatmap.metric', 'off', vscode.ConfigurationTarget.Global);
      await until(async () => (await count()) === 0);
      await cfg.update('heatmap.metric', 'entropy', vscode.ConfigurationTarget.Global);
      await cfg.update('heatmap.layer', 'mean', vscode.ConfigurationTarget.Global);
      await until(async () => ((await count()) ?? 0) > 0);
    } finally {
      await cfg.update('heatmap.metric', undefined, vscode.ConfigurationTarget.Global);
      await cfg.update('heatmap.layer', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('steering survives a server restart (the extension re-sends it) and shows in the hover', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'for i in range(10):\n    print(i)\n' });
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('moeLens.disableExpert', { layer: '*', expert: 0 });
    try {
      await vscode.commands.executeCommand('moeLens.restartServer');
      const md = await until(async () => {
        const h = (await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, new vscode.Position(0, 1))) as vscode.Hover[];
        const text = h.flatMap((x) => x.contents).map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value)).join('\n');
        return /unsteered/.test(text) ? text : undefined;
      });
      assert.doesNotMatch(md.split('unsteered')[1].split('\n').slice(2, 6).map((row) => row.split('|')[2]).join(), /E0 /);
    } finally {
      await vscode.commands.executeCommand('moeLens.resetAllExperts');
    }
  });
});

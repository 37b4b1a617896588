// Extension-host tests of engine traces and routing statistics: Open Routing Trace on a document (the fixture that
// holds the embedded model's own routing), what hover and decorations show from it, Routing Statistics over it, and
// Close Routing Trace — all through the extension's commands, with arguments instead of dialogs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { EXT, until } from './support';
import type { OpenTraceResult, StatsResult } from '../../common/protocol';

const hoverText = async (uri: vscode.Uri, pos: vscode.Position) => {
  const h = (await vscode.commands.executeCommand('vscode.executeHoverProvider', uri, pos)) as vscode.Hover[];
  return h.flatMap((x) => x.contents).map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value)).join('\n');
};

suite('MoE Lens engine traces and statistics in the extension host', () => {
  const fixtures = () => join(vscode.extensions.getExtension(EXT)!.extensionPath, 'test', 'fixtures', 'traces');

  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXT)!.activate();
    await until(async () => (await vscode.commands.executeCommand('moeLens._debugState')) && true);
  });

  test('Open Routing Trace: hover says "not in the trace", gate-weight heatmap paints nothing; Close goes back', async () => {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(fixtures(), 'sample.py')));
    await vscode.window.showTextDocument(doc);
    const uri = doc.uri.toString();
    const count = async () => ((await vscode.commands.executeCommand('moeLens._debugDecorationCounts')) as Record<string, number>)[uri] ?? 0;
    await until(async () => (await count()) > 0);
    const opened = (await vscode.commands.executeCommand('moeLens.openRoutingTrace', { uri, path: join(fixtures(), 'sglang.json') })) as OpenTraceResult;
    assert.equal(opened.engine, 'sglang');
    const md = await until(async () => {
      const t = await hoverText(doc.uri, new vscode.Position(0, 5));
      return /not in the trace/.test(t) ? t : undefined;
    });
    assert.match(md, /surprisal not in the trace/);
    assert.doesNotMatch(md, /\(0\.00\)/);
    const cfg = vscode.workspace.getConfiguration('moeLens');
    try {
      await cfg.update('heatmap.metric', 'gate', vscode.ConfigurationTarget.Global);
      await until(async () => (await count()) === 0);
      await cfg.update('heatmap.metric', 'expert', vscode.ConfigurationTarget.Global);
      await until(async () => (await count()) > 0);
    } finally {
      await cfg.update('heatmap.metric', undefined, vscode.ConfigurationTarget.Global);
    }
    const stats = (await vscode.commands.executeCommand('moeLens.routingStatistics', { params: { uris: [uri] } })) as StatsResult;
    assert.deepEqual(stats.traced, [uri]);
    assert.equal(stats.layers[0].meanProb, null);
    assert.equal(await vscode.commands.executeCommand('moeLens.closeRoutingTrace', { uri }), true);
    await until(async () => /\| 0 \| E\d+ \(\d\.\d\d\)/.test(await hoverText(doc.uri, new vscode.Position(0, 5))));
  });

  test('a trace of another text is refused and the document keeps its model routing', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: 'print("hello")\n' });
    await vscode.window.showTextDocument(doc);
    const r = await vscode.commands.executeCommand('moeLens.openRoutingTrace', { uri: doc.uri.toString(), path: join(fixtures(), 'vllm.json') });
    assert.equal(r, undefined);
    await until(async () => /\| 0 \| E\d+ \(\d\.\d\d\)/.test(await hoverText(doc.uri, new vscode.Position(0, 2))));
  });
});

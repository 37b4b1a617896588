// The server and CLI bundles hold one copy of the protocol library: common/protocol.ts's message objects come from
// the copy vscode-languageserver pins (esbuild.mjs's server-protocol plugin), not a second, top-level one. Read from
// the bundles' source maps (every module a bundle holds is one of its sources), so it holds for minified builds too.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { distDir } from '../support/paths';

function packagesIn(bundle: string): Set<string> {
  const map = join(distDir, `${bundle}.js.map`);
  assert.ok(existsSync(map), `${map} is missing: run node esbuild.mjs first`);
  const sources: string[] = JSON.parse(readFileSync(map, 'utf8')).sources;
  // the innermost node_modules/<package> of each source, with the path to it (a nested copy keeps its parent)
  return new Set(sources.map((s) => /^.*?(node_modules\/.*node_modules\/[^/]+|node_modules\/[^/]+)/.exec(s.replace(/^(\.\.\/)+/, ''))?.[1]).filter((p): p is string => !!p));
}

describe('bundles', () => {
  for (const bundle of ['server', 'cli']) {
    it(`${bundle}.js holds one copy of vscode-languageserver-protocol and vscode-jsonrpc`, () => {
      const packages = [...packagesIn(bundle)];
      for (const name of ['vscode-languageserver-protocol', 'vscode-jsonrpc']) {
        const copies = packages.filter((p) => p.endsWith(`node_modules/${name}`));
        assert.ok(copies.length <= 1, `${bundle}.js bundles ${copies.join(' and ')}`);
      }
    });
  }

  it('server.js bundles the copy vscode-languageserver pins', () => {
    const packages = [...packagesIn('server')];
    assert.ok(packages.some((p) => p.endsWith('vscode-languageserver/node_modules/vscode-languageserver-protocol')), packages.join(', '));
  });
});

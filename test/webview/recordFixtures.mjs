// Records the routing fixtures of the webview tests by running the real analysis (the CLI of the language server)
// on two samples: `node esbuild.mjs && node test/webview/recordFixtures.mjs`. Re-run it when the embedded model
// changes. Each fixture holds the sample's text too, so a test can cut token texts from the offsets.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const samples = [
  ['python', 'samples/fib.py'],
  ['typescript', 'samples/server.ts'],
];
for (const [lang, file] of samples) {
  const result = JSON.parse(execFileSync(process.execPath, ['dist/cli.js', 'route', file, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  const text = readFileSync(file, 'utf8');
  writeFileSync(`test/fixtures/routing-${lang}.json`, JSON.stringify({ source: file, text, result }) + '\n');
  console.log(`test/fixtures/routing-${lang}.json: ${result.tokens} tokens, model ${result.model.name}`);
}

// The command table's ids (extension/commandIds.ts, which extension/commands.ts is keyed by) and package.json's
// contributed commands are the same list: a command cannot be registered without a palette entry or the reverse.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_IDS, DEBUG_COMMAND_IDS } from '../../extension/commandIds';
import { repoRoot } from '../support/paths';

const contributes = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).contributes;

describe('command table', () => {
  it("equals package.json's contributes.commands", () => {
    assert.deepEqual([...COMMAND_IDS].sort(), contributes.commands.map((c: { command: string }) => c.command).sort());
  });

  it('menus name only contributed commands, and debug commands stay out of package.json', () => {
    const inMenus = Object.values(contributes.menus as Record<string, { command: string }[]>).flat().map((m) => m.command);
    for (const c of inMenus) assert.ok((COMMAND_IDS as readonly string[]).includes(c), c);
    for (const c of DEBUG_COMMAND_IDS) assert.ok(!contributes.commands.some((x: { command: string }) => x.command === c), c);
  });
});

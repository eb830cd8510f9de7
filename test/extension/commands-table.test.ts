/**
 * The commands the manifest contributes and the handlers the extension registers are the same set:
 * a contributed command without a handler fails when clicked, a handler without a contribution is
 * unreachable from the palette and menus.
 */
import '../webview/vscode-fake';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../../src/extension/commands';
import { repoRoot } from '../config/helpers';

test('package.json commands and the extension command table are the same set', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } };
  const contributed = pkg.contributes.commands.map((c) => c.command).sort();
  assert.deepEqual(Object.keys(COMMANDS).sort(), contributed);
  assert.equal(new Set(contributed).size, contributed.length, 'no command contributed twice');
});

/**
 * The VS Code manifest (package.json `contributes`) against the code and files it names: a command
 * in a menu that is not contributed, a missing icon or a setting default drifting from the schema
 * default all fail silently in the editor, so they are checked here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LANGUAGE_ID, RUN_COMMAND, RUN_SWEEP_COMMAND } from '../../src/shared/lsp-protocol';
import schemaJson from '../../src/config/gradflow.schema.json';
import { nodeAt, type SchemaNode } from '../../src/config/schema';
import { at } from '../../src/shared/checked';

const root = path.resolve(__dirname, '..', '..');
// Found from the working directory when bundled to a temp folder by scripts/run-ts.sh.
const repo = fs.existsSync(path.join(root, 'package.json')) && fs.existsSync(path.join(root, 'src')) ? root : process.cwd();

interface Manifest {
  main: string;
  activationEvents: string[];
  contributes: {
    languages: Array<{ id: string; filenamePatterns: string[]; configuration: string; icon: { light: string; dark: string } }>;
    grammars: Array<{ language: string; path: string }>;
    yamlValidation: Array<{ url: string }>;
    commands: Array<{ command: string; title: string; category: string }>;
    menus: Record<string, Array<{ command: string; when?: string }>>;
    viewsContainers: { activitybar: Array<{ id: string; icon: string }> };
    views: Record<string, Array<{ id: string }>>;
    configuration: { properties: Record<string, { default: unknown }> };
  };
}

const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as Manifest;
const c = pkg.contributes;

test('every menu entry names a contributed command', () => {
  const ids = new Set(c.commands.map((x) => x.command));
  for (const [menu, items] of Object.entries(c.menus)) {
    for (const item of items) assert.ok(ids.has(item.command), `${menu}: ${item.command}`);
  }
  for (const id of [RUN_COMMAND, RUN_SWEEP_COMMAND, 'gradflow.stop', 'gradflow.showDashboard', 'gradflow.openRun']) assert.ok(ids.has(id), id);
  assert.ok(c.commands.every((x) => x.category === 'Gradflow'));
});

test('the language id matches the one the server and client use, and claims *.gradflow.yaml', () => {
  assert.equal(at(c.languages, 0).id, LANGUAGE_ID);
  assert.ok(at(c.languages, 0).filenamePatterns.includes('*.gradflow.yaml'));
  assert.equal(at(c.grammars, 0).language, LANGUAGE_ID);
  assert.ok(pkg.activationEvents.includes(`onLanguage:${LANGUAGE_ID}`));
  assert.ok(pkg.activationEvents.includes('workspaceContains:**/*.gradflow.yaml'));
});

test('files named by the manifest exist (bundles excepted: built later)', () => {
  const files = [
    at(c.languages, 0).configuration,
    at(c.languages, 0).icon.light,
    at(c.grammars, 0).path,
    at(c.yamlValidation, 0).url,
    ...c.viewsContainers.activitybar.map((v) => v.icon),
  ];
  for (const f of files) assert.ok(fs.existsSync(path.join(repo, f)), f);
  assert.equal(pkg.main, './dist/extension.js');
  assert.deepEqual(Object.values(c.views).flat().map((v) => v.id), ['gradflow.runs']);
});

test('threshold settings default to the schema defaults, so an unset setting changes nothing', () => {
  const schema = schemaJson as unknown as SchemaNode;
  const pairs: Array<[string, string[]]> = [
    ['gradflow.thresholds.explosion.maxNorm', ['monitoring', 'explosion', 'max_norm']],
    ['gradflow.thresholds.explosion.growthFactor', ['monitoring', 'explosion', 'growth_factor']],
    ['gradflow.thresholds.explosion.window', ['monitoring', 'explosion', 'window']],
    ['gradflow.thresholds.collapse.minNorm', ['monitoring', 'collapse', 'min_norm']],
    ['gradflow.thresholds.collapse.steps', ['monitoring', 'collapse', 'steps']],
  ];
  for (const [setting, key] of pairs) {
    assert.equal(c.configuration.properties[setting]?.default, nodeAt(schema, key)?.default, setting);
  }
  assert.equal(c.configuration.properties['gradflow.backend']?.default, nodeAt(schema, ['run', 'backend'])?.default);
});

test('.vscodeignore is an allowlist that keeps the bundles and the schema', () => {
  const lines = fs.readFileSync(path.join(repo, '.vscodeignore'), 'utf8').split('\n').map((l) => l.trim());
  assert.equal(lines.find((l) => l !== '' && !l.startsWith('#')), '**');
  for (const keep of ['!dist/**', '!media/**', '!package.json', '!src/config/gradflow.schema.json', '!syntaxes/**']) assert.ok(lines.includes(keep), keep);
});

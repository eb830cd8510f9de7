/**
 * Extension-host tests: run inside VS Code (code-server here, via test/e2e/harness.ts
 * `runExtensionHostTests`; @vscode/test-electron elsewhere) with the repository as the extension
 * under development and `dist/` built. Not a `*.test.ts` file, so the plain Node test run skips it.
 *
 * Everything goes through the public surface (commands, language features, diagnostics) so the
 * checks are what a user gets. Experiment files are copied into the workspace so runs land in its
 * `.gradflow/runs`, never in the repository.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as vscodeApi from 'vscode';
import type { RunOutcome } from '../../src/runs/session';
import { at } from '../../src/shared/checked';

/**
 * Loaded in run(), not at import: `node --test out/test/` also loads every .js under a `test`
 * folder, and there `vscode` does not exist; loading this module must then be harmless.
 */
let vscode: typeof vscodeApi;

const EXTENSION_ID = 'gradflow.gradflow';
const repoRoot = path.resolve(__dirname, '..', '..', '..');


function log(message: string): void {
  // The extension host forwards console output to the browser console the harness records.
  console.log(`[gradflow ext-host test] ${message}`);
}

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return folder ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-exthost-'));
}

function copyExample(name: string, dir: string, as: string): vscodeApi.Uri {
  const target = path.join(dir, as);
  fs.copyFileSync(path.join(repoRoot, 'examples', name), target);
  return vscode.Uri.file(target);
}

/** Resolves with the diagnostics of `uri` from `source` once `accept` holds, or rejects after `ms`. */
function waitForDiagnostics(uri: vscodeApi.Uri, source: string, accept: (d: vscodeApi.Diagnostic[]) => boolean, ms: number): Promise<vscodeApi.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const current = (): vscodeApi.Diagnostic[] => vscode.languages.getDiagnostics(uri).filter((d) => d.source === source);
    const check = (): boolean => {
      const ds = current();
      if (!accept(ds)) return false;
      cleanup();
      resolve(ds);
      return true;
    };
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === uri.toString())) check();
    });
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no matching '${source}' diagnostics on ${uri.fsPath} within ${ms} ms; have: ${JSON.stringify(current().map((d) => d.message))}`));
    }, ms);
    const cleanup = (): void => {
      sub.dispose();
      clearTimeout(timer);
    };
    check();
  });
}

async function step(name: string, body: () => Promise<void>): Promise<void> {
  const t0 = Date.now();
  log(`${name} …`);
  await body();
  log(`${name}: ok (${Date.now() - t0} ms)`);
}

export async function run(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see the note on `vscode` above
  vscode = require('vscode') as typeof vscodeApi;
  const dir = workspaceDir();
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is loaded`);

  await step('activate', async () => {
    await ext.activate();
    assert.equal(ext.isActive, true);
    const commands = await vscode.commands.getCommands(true);
    for (const c of ['gradflow.run', 'gradflow.runSweep', 'gradflow.stop', 'gradflow.showDashboard', 'gradflow.openRun']) {
      assert.ok(commands.includes(c), `command ${c} is registered`);
    }
  });

  const quick = copyExample('quick-synthetic.gradflow.yaml', dir, 'quick.gradflow.yaml');

  await step('experiment files get the gradflow-yaml language, hover and code lens', async () => {
    const doc = await vscode.workspace.openTextDocument(quick);
    await vscode.window.showTextDocument(doc);
    assert.equal(doc.languageId, 'gradflow-yaml');
    const line = doc.getText().split('\n').findIndex((l) => /^\s+width:/.test(l));
    assert.ok(line >= 0);
    // The server starts on the first open document; retry until it answers.
    let hovers: vscodeApi.Hover[] = [];
    for (let i = 0; i < 50 && hovers.length === 0; i++) {
      hovers = await vscode.commands.executeCommand<vscodeApi.Hover[]>('vscode.executeHoverProvider', quick, new vscode.Position(line, 3));
      if (hovers.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /model\.width/);
    const lenses = await vscode.commands.executeCommand<vscodeApi.CodeLens[]>('vscode.executeCodeLensProvider', quick);
    assert.ok(lenses.some((l) => l.command?.title === '▶ Run experiment'), 'run code lens');
    // Value completion after `optimizer: ` offers the schema's optimizers.
    const optLine = doc.getText().split('\n').findIndex((l) => /^\s+optimizer:/.test(l));
    const optCol = doc.lineAt(optLine).text.indexOf(':') + 2;
    const list = await vscode.commands.executeCommand<vscodeApi.CompletionList>('vscode.executeCompletionItemProvider', quick, new vscode.Position(optLine, optCol));
    const labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    for (const o of ['sgd', 'momentum', 'adam', 'adamw', 'rmsprop', 'adagrad']) assert.ok(labels.includes(o), `completion offers ${o}`);
  });

  await step('the language server flags a broken file on the exact characters', async () => {
    const broken = path.join(dir, 'broken.gradflow.yaml');
    fs.writeFileSync(broken, 'model:\n  activation: rleu\n');
    const uri = vscode.Uri.file(broken);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const [d] = await waitForDiagnostics(uri, 'gradflow', (ds) => ds.length > 0, 20_000);
    assert.ok(d);
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    assert.deepEqual([d.range.start.line, d.range.start.character, d.range.end.character], [1, 14, 18]);
    assert.match(d.message, /did you mean 'relu'/);
  });

  await step('gradflow.run trains the quick example to the end', async () => {
    const outcome = await vscode.commands.executeCommand<RunOutcome | undefined>('gradflow.run', quick);
    assert.ok(outcome, 'the run started');
    assert.equal(outcome.status, 'finished', `run status (exit code ${outcome.exit.code})`);
    assert.ok(outcome.runDir !== undefined && fs.existsSync(path.join(outcome.runDir, 'summary.json')), 'summary written');
    assert.ok(outcome.runDir.startsWith(path.join(dir, '.gradflow', 'runs')), `runs go to the workspace: ${outcome.runDir}`);
  });

  await step('an exploding run puts alerts on the learning-rate line, with quick fixes', async () => {
    const exploding = copyExample('exploding.gradflow.yaml', dir, 'exploding.gradflow.yaml');
    const doc = await vscode.workspace.openTextDocument(exploding);
    const outcome = await vscode.commands.executeCommand<RunOutcome | undefined>('gradflow.run', exploding);
    assert.ok(outcome, 'the run started');
    const lrLine = doc.getText().split('\n').findIndex((l) => /^\s+learning_rate:/.test(l));
    const ds = await waitForDiagnostics(exploding, 'gradflow run', (all) => all.some((d) => d.range.start.line === lrLine), 10_000);
    const onLr = ds.filter((d) => d.range.start.line === lrLine);
    assert.ok(onLr.some((d) => d.code === 'explosion' || d.code === 'nan'), `explosion/nan on line ${lrLine}: ${JSON.stringify(onLr.map((d) => d.message))}`);
    const actions = await vscode.commands.executeCommand<vscodeApi.CodeAction[]>('vscode.executeCodeActionProvider', exploding, at(onLr, 0).range);
    assert.ok(actions.some((a) => a.title.startsWith('Lower the learning rate')), `quick fixes: ${actions.map((a) => a.title).join(', ')}`);
  });

  await step('gradflow.runSweep runs every configuration, and skips finished ones when run again', async () => {
    const sweepFile = path.join(dir, 'tiny-sweep.gradflow.yaml');
    fs.writeFileSync(
      sweepFile,
      [
        'name: tiny-sweep',
        'dataset:',
        '  name: synthetic',
        '  synthetic: { features: 8, classes: 2, train_size: 256, test_size: 64 }',
        'model:',
        '  hidden_layers: 1',
        '  width: 16',
        'training:',
        '  epochs: 1',
        '  batch_size: 64',
        'run:',
        '  backend: cpu',
        'sweep:',
        '  seeds: [0, 1]',
        '  grid:',
        '    training.optimizer: [adam, sgd]',
        '  workers: 2',
        '',
      ].join('\n'),
    );
    const uri = vscode.Uri.file(sweepFile);
    // Language-feature commands need the document loaded in the editor.
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const lenses = await vscode.commands.executeCommand<vscodeApi.CodeLens[]>('vscode.executeCodeLensProvider', uri);
    assert.ok(lenses.some((l) => l.command?.title === '▶ Run sweep'), 'sweep code lens');
    const first = await vscode.commands.executeCommand<RunOutcome[]>('gradflow.runSweep', uri);
    assert.deepEqual(first.map((o) => o.status), ['finished', 'finished', 'finished', 'finished']);
    assert.ok(first.every((o) => o.runDir?.includes(`${path.sep}sweep-tiny-sweep${path.sep}`)), 'runs in the sweep folder');
    const again = await vscode.commands.executeCommand<RunOutcome[]>('gradflow.runSweep', uri);
    assert.deepEqual(again, [], 'a second sweep run finds every configuration finished');
    // The study report of that sweep, written next to it and opened.
    const sweepDir = path.dirname(at(first, 0).runDir ?? '');
    const files = await vscode.commands.executeCommand<string[]>('gradflow.reportSweep', sweepDir);
    assert.ok(files.some((f) => f.endsWith(`${path.sep}report${path.sep}report.md`)), `report files: ${files.join(', ')}`);
    assert.match(fs.readFileSync(path.join(sweepDir, 'report', 'report.md'), 'utf8'), /Kendall/);
  });

  await step('gradflow.stop stops a running trainer, which still ends normally', async () => {
    const long = path.join(dir, 'long.gradflow.yaml');
    fs.writeFileSync(long, fs.readFileSync(quick.fsPath, 'utf8').replace(/epochs: \d+/, 'epochs: 200'));
    const uri = vscode.Uri.file(long);
    const pending = vscode.commands.executeCommand<RunOutcome | undefined>('gradflow.run', uri);
    await new Promise((r) => setTimeout(r, 3000));
    await vscode.commands.executeCommand('gradflow.stop');
    const outcome = await pending;
    assert.ok(outcome);
    assert.equal(outcome.status, 'stopped');
    assert.equal(outcome.exit.code, 0);
  });

  await step('a trainer that fails is reported as failed with its exit code', async () => {
    const bad = path.join(dir, 'bad.gradflow.yaml');
    fs.writeFileSync(bad, 'dataset:\n  name: mnist\n  path: ./no-such-folder\nrun:\n  backend: cpu\n');
    const outcome = await vscode.commands.executeCommand<RunOutcome | undefined>('gradflow.run', vscode.Uri.file(bad));
    assert.ok(outcome);
    assert.equal(outcome.status, 'failed');
    assert.notEqual(outcome.exit.code, 0);
  });

  await step('dashboard and past runs open without error', async () => {
    await vscode.commands.executeCommand('gradflow.showDashboard');
    const runsDir = path.join(dir, '.gradflow', 'runs');
    const first = fs.readdirSync(runsDir).find((n) => fs.existsSync(path.join(runsDir, n, 'run.json')));
    assert.ok(first, 'a recorded run');
    await vscode.commands.executeCommand('gradflow.openRun', path.join(runsDir, first));
  });
}

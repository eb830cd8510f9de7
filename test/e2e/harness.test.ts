/**
 * Self-test of the e2e harness against a real code-server, using a throwaway extension generated
 * here (plain JS, no build) rather than Gradflow: an extension-host test module's failure must reach
 * the test as a non-zero exit code, else gradflow-host.test.ts could never fail.
 *
 * The workbench side of the harness (palette commands, quick open, the Problems view, webview
 * frames) is not self-tested here any more: every product suite drives each of those in Gradflow's
 * own window (gradflow-ui: palette, quick open, Problems, the dashboard's frames; gradflow-vsix: an
 * installed extension's palette command), and a separate window for a throwaway extension cost
 * about 19 s of every CI run (docs/testing.md, "What the end-to-end suites cost").
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  closeAll,
  e2eAvailable,
  e2eSkip,
  repoRoot,
  requireE2E,
  runExtensionHostTests,
  testTimeout,
} from './harness';

const HELLO_TEXT = 'Hello from Gradflow E2E';

/** Writes the throwaway extension: one command that writes a file and shows a notification. */
function writeHelloExtension(dir: string): void {
  fs.mkdirSync(path.join(dir, 'test'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify(
      {
        name: 'e2e-hello',
        publisher: 'gradflow-test',
        version: '0.0.1',
        engines: { vscode: '^1.100.0' },
        main: './extension.js',
        activationEvents: [],
        contributes: {
          commands: [
            { command: 'gradflowE2E.hello', title: 'Gradflow E2E: Hello' },
            { command: 'gradflowE2E.webview', title: 'Gradflow E2E: Show Webview' },
          ],
        },
      },
      null,
      2,
    ),
  );
  fs.writeFileSync(
    path.join(dir, 'extension.js'),
    `const vscode = require('vscode');
exports.activate = (context) => {
  context.subscriptions.push(vscode.commands.registerCommand('gradflowE2E.hello', async () => {
    const folder = vscode.workspace.workspaceFolders[0].uri;
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, 'hello.txt'), Buffer.from(${JSON.stringify(HELLO_TEXT)}));
    vscode.window.showInformationMessage(${JSON.stringify(HELLO_TEXT)});
  }));
  context.subscriptions.push(vscode.commands.registerCommand('gradflowE2E.webview', () => {
    const panel = vscode.window.createWebviewPanel('gradflowE2E', 'E2E Webview', vscode.ViewColumn.One, { enableScripts: true });
    panel.webview.html = '<!DOCTYPE html><html><body><h1 id="greeting">' + ${JSON.stringify(HELLO_TEXT)} + '</h1>'
      + '<script>document.getElementById("greeting").dataset.ready = "yes";</script></body></html>';
  }));
};
exports.deactivate = () => {};
`,
  );
  // The extension-host test module: its checks, then a deliberate failure. run() resolving = exit
  // code 0 is proven by every run of gradflow-host.test.ts (Gradflow's extension-host suite); a
  // throw = non-zero here, after the checks ran (their marker reaches the browser console), so one
  // code-server start proves both that the module's code runs and that a failure is reported.
  fs.writeFileSync(
    path.join(dir, 'test', 'checks-then-fail.js'),
    `const vscode = require('vscode');
const assert = require('assert');
exports.run = async () => {
  const folder = vscode.workspace.workspaceFolders[0].uri;
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder, 'data.json'));
  assert.strictEqual(doc.languageId, 'json');
  await vscode.window.showTextDocument(doc);
  assert.strictEqual(vscode.window.activeTextEditor.document.uri.toString(), doc.uri.toString());
  const ext = vscode.extensions.getExtension('gradflow-test.e2e-hello');
  assert.ok(ext, 'extension under development is loaded');
  await ext.activate();
  assert.ok((await vscode.commands.getCommands(true)).includes('gradflowE2E.hello'));
  console.log('GRADFLOW_E2E_EXTHOST_CHECKS_PASSED');
  assert.strictEqual(1 + 1, 3, 'deliberate failure');
};
`,
  );
}

// Last-resort cleanup for anything a failed test left open (see closeAll's comment).
after(closeAll);

describe('e2e harness self-test', { skip: e2eSkip(), timeout: testTimeout(180_000) }, () => {
  let tmp: string;
  let extDir: string;
  let workspace: string;

  before(async () => {
    requireE2E();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-e2e-selftest-'));
    extDir = path.join(tmp, 'ext');
    workspace = path.join(tmp, 'ws');
    writeHelloExtension(extDir);
    fs.mkdirSync(workspace);
    fs.writeFileSync(path.join(workspace, 'data.json'), '{ "a": 1, }\n'); // trailing comma: a JSON warning/error
  });

  after(async () => {
    // Runs even when a test or `before` failed; each step guarded so one failure does not leak
    // the rest (the harness also kills process groups at process exit as a last resort).
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('an extension-host test module runs its checks, and its failure yields a non-zero exit code', { timeout: testTimeout(60_000) }, async () => {
    const r = await runExtensionHostTests(extDir, path.join(extDir, 'test', 'checks-then-fail.js'), { workspace });
    console.log(`[e2e timing] extension-host run ${r.durationMs} ms`);
    assert.ok(r.console.some((l) => l.includes('GRADFLOW_E2E_EXTHOST_CHECKS_PASSED')), `the module's checks passed before its deliberate failure:\n${r.console.join('\n')}\nserver:\n${r.serverLog}`);
    assert.notEqual(r.exitCode, 0);
  });
});


// The skip/fail policy itself, checked without code-server (fast, runs everywhere).
describe('e2e availability policy', () => {
  const saved = { home: process.env.GRADFLOW_E2E_HOME, mode: process.env.GRADFLOW_E2E };
  after(() => {
    restore('GRADFLOW_E2E_HOME', saved.home);
    restore('GRADFLOW_E2E', saved.mode);
  });

  test('missing tooling skips with a reason unless GRADFLOW_E2E=required', () => {
    process.env.GRADFLOW_E2E_HOME = path.join(os.tmpdir(), 'gradflow-e2e-does-not-exist');
    delete process.env.GRADFLOW_E2E;
    const a = e2eAvailable();
    assert.equal(a.ok, false);
    assert.match(a.reason ?? '', /code-server 4\.100\.3.*setup-e2e\.sh/);
    assert.equal(e2eSkip(), a.reason);
    assert.doesNotThrow(() => e2eSkip());

    process.env.GRADFLOW_E2E = 'required';
    assert.equal(e2eSkip(), false, 'required: the suite runs, and fails in before()');
    assert.throws(() => requireE2E(), /GRADFLOW_E2E=required/);
  });

  test('repoRoot finds the gradflow package from compiled or bundled locations', () => {
    const root = repoRoot();
    const pj = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name?: string };
    assert.equal(pj.name, 'gradflow');
  });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

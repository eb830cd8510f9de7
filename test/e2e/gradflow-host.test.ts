/**
 * Gradflow's extension-host suite (test/vscode/index.ts: activation, language features, real
 * trainer runs, sweeps, stop, failures, dashboard) run inside code-server with the repository as
 * the extension under development. run() resolving = exit code 0.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { testTimeout, closeAll, e2eSkip, repoRoot, requireE2E, runExtensionHostTests } from './harness';

after(closeAll);

describe('Gradflow extension-host suite (test/vscode) in code-server', { skip: e2eSkip(), timeout: testTimeout(300_000) }, () => {
  test('test/vscode/index.ts run() passes', { timeout: testTimeout(290_000) }, async () => {
    requireE2E();
    const module = path.join(repoRoot(), 'out', 'test', 'vscode', 'index.js');
    assert.ok(fs.existsSync(module), `${module} is compiled (npx tsc -p tsconfig.test.json)`);
    // Unloaded it takes ≈ 30 s (several real trainer runs and a 4-run sweep); leave room for a
    // machine running two e2e files at once.
    const r = await runExtensionHostTests(repoRoot(), module, { timeoutMs: 270_000, screenshotName: 'gradflow-host-end' });
    // Lines look like `[log] %c INFO color: #33f [gradflow ext-host test] activate: ok (124 ms)`.
    const steps = r.console.filter((l) => l.includes('[gradflow ext-host test]')).map((l) => l.replace(/^.*\[gradflow ext-host test\] /, ''));
    console.log(`[e2e timing] extension-host suite ${r.durationMs} ms\n${steps.map((l) => `  ${l}`).join('\n')}`);
    assert.equal(
      r.exitCode,
      0,
      `extension-host tests failed (exit ${r.exitCode})\n--- console ---\n${r.console.join('\n')}\n--- code-server (tail) ---\n${r.serverLog.slice(-20_000)}`,
    );
    // The module really ran its steps (each logs `name …` then `name: ok (N ms)`), it did not just
    // resolve early.
    const started = steps.filter((l) => l.endsWith(' …')).map((l) => l.slice(0, -2));
    assert.ok(started.length >= 5, `steps run:\n${steps.join('\n')}`);
    for (const name of started) assert.ok(steps.some((l) => l.startsWith(`${name}: ok`)), `step "${name}" ended ok:\n${steps.join('\n')}`);
  });
});

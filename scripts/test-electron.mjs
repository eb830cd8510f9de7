// The extension-host suite (test/vscode) in desktop VS Code, for machines that can download it
// (@vscode/test-electron fetches VS Code from Microsoft; this machine and CI cannot, and run the
// same module in code-server instead: test/e2e/gradflow-host.test.ts).
//   npm run build && npx tsc -p tsconfig.test.json && node scripts/test-electron.mjs [version]
import { runTests } from '@vscode/test-electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const version = process.argv[2] ?? 'stable';
try {
  await runTests({
    version,
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out', 'test', 'vscode', 'index.js'),
    // A scratch profile, and no other extensions: the suite must not depend on the user's setup.
    launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  });
} catch (e) {
  console.error(`extension-host tests failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}

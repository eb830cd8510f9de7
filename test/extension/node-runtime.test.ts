import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveNodeRuntime, findOnPath, type RuntimeProbe } from '../../src/extension/node-runtime';

const probe = (over: Partial<RuntimeProbe>): RuntimeProbe => ({
  setting: '',
  envPath: '/usr/local/bin:/usr/bin',
  platform: 'linux',
  execPath: '/opt/VSCode/code',
  electron: true,
  isExecutable: (f) => f === '/usr/bin/node',
  ...over,
});

test('the setting wins when it is executable', () => {
  const r = resolveNodeRuntime(probe({ setting: '/opt/node20/bin/node', isExecutable: (f) => f === '/opt/node20/bin/node' || f === '/usr/bin/node' }));
  assert.deepEqual(r, { nodePath: '/opt/node20/bin/node', source: 'setting', env: {} });
});

test('node on PATH, with a warning when the setting is unusable', () => {
  assert.deepEqual(resolveNodeRuntime(probe({})), { nodePath: '/usr/bin/node', source: 'path', env: {} });
  const r = resolveNodeRuntime(probe({ setting: '/nope/node' }));
  assert.equal(r.nodePath, '/usr/bin/node');
  assert.match(r.warning ?? '', /not an executable/);
});

test('no node anywhere: the editor runtime as Node, wasm backend under Electron', () => {
  assert.deepEqual(resolveNodeRuntime(probe({ envPath: '/bin', isExecutable: () => false })), {
    nodePath: '/opt/VSCode/code',
    source: 'editor',
    env: { ELECTRON_RUN_AS_NODE: '1' },
    backend: 'wasm',
  });
  // code-server's extension host is plain Node: no Electron flag, no backend constraint.
  assert.deepEqual(resolveNodeRuntime(probe({ envPath: undefined, electron: false, execPath: '/usr/lib/code-server/lib/node' })), {
    nodePath: '/usr/lib/code-server/lib/node',
    source: 'editor',
    env: {},
  });
});

test('PATH lookup on Windows uses ; and node.exe', () => {
  const found = findOnPath('node', 'C:\\bin;C:\\Program Files\\nodejs', 'win32', (f) => f === 'C:\\Program Files\\nodejs\\node.exe');
  assert.equal(found, 'C:\\Program Files\\nodejs\\node.exe');
});

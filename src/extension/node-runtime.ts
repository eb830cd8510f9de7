/**
 * Which Node executable runs the trainer. Pure apart from the injected file check, so the choice is
 * unit-tested. Order: the `gradflow.nodePath` setting; a `node` on PATH; the editor's own runtime
 * (`process.execPath`). The editor's runtime is Electron in desktop VS Code: it runs as Node with
 * ELECTRON_RUN_AS_NODE=1, and it cannot load tfjs-node's native binding (built for Node's ABI), so
 * the trainer is told to use the wasm backend there.
 */
import * as path from 'node:path';
import type { BackendPreference } from '../shared/experiment';

export interface RuntimeProbe {
  /** `gradflow.nodePath`, '' when unset. */
  setting: string;
  /** PATH of the extension host. */
  envPath: string | undefined;
  platform: NodeJS.Platform;
  /** The extension host's executable. */
  execPath: string;
  /** Whether the extension host runs in Electron (`process.versions.electron`). */
  electron: boolean;
  isExecutable: (file: string) => boolean;
}

export interface NodeRuntime {
  nodePath: string;
  source: 'setting' | 'path' | 'editor';
  /** Extra environment for the trainer process. */
  env: Record<string, string>;
  /** Backend the runtime imposes (the editor's Electron cannot use tfjs-node), if any. */
  backend?: BackendPreference;
  /** Why the setting was not used, when it was set but unusable (for the log). */
  warning?: string;
}

export function findOnPath(name: string, envPath: string | undefined, platform: NodeJS.Platform, isExecutable: (f: string) => boolean): string | undefined {
  if (envPath === undefined || envPath === '') return undefined;
  const sep = platform === 'win32' ? ';' : ':';
  const names = platform === 'win32' ? [`${name}.exe`, `${name}.cmd`, name] : [name];
  const join = platform === 'win32' ? path.win32.join : path.posix.join;
  for (const dir of envPath.split(sep)) {
    if (dir === '') continue;
    for (const n of names) {
      const candidate = join(dir, n);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

export function resolveNodeRuntime(p: RuntimeProbe): NodeRuntime {
  let warning: string | undefined;
  if (p.setting !== '') {
    if (p.isExecutable(p.setting)) return { nodePath: p.setting, source: 'setting', env: {} };
    warning = `gradflow.nodePath '${p.setting}' is not an executable file; looking for node on PATH instead`;
  }
  const onPath = findOnPath('node', p.envPath, p.platform, p.isExecutable);
  if (onPath !== undefined) return { nodePath: onPath, source: 'path', env: {}, ...(warning !== undefined ? { warning } : {}) };
  if (p.electron) {
    return {
      nodePath: p.execPath,
      source: 'editor',
      env: { ELECTRON_RUN_AS_NODE: '1' },
      backend: 'wasm',
      ...(warning !== undefined ? { warning } : {}),
    };
  }
  // A Node-based host (code-server, VS Code server): its runtime is plain Node.
  return { nodePath: p.execPath, source: 'editor', env: {}, ...(warning !== undefined ? { warning } : {}) };
}

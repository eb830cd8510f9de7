/**
 * End-to-end harness: a real VS Code (code-server 4.100.3, bundling VS Code 1.100.3) driven by
 * Debian chromium through playwright-core.
 *
 * Why code-server and not @vscode/test-electron / @vscode/test-web: both download VS Code, which
 * cannot happen here or in CI (only the npm registry and Debian apt are reachable). code-server is
 * installed from npm by scripts/setup-e2e.sh into $GRADFLOW_E2E_HOME, outside the project tree.
 *
 * Policy (see docs/testing.md): if code-server or chromium is missing the e2e tests are skipped
 * with the reason, unless GRADFLOW_E2E=required (CI), in which case they fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';
import { at } from '../../src/shared/checked';

export const CODE_SERVER_VERSION = '4.100.3';

/** Flags from /work/shared/docs/environment.md; each one removes a source of flakiness or of
 * network access (there is none) in a headless container running as root. */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox', // root in a container: the setuid/namespace sandbox is unavailable
  '--disable-gpu',
  '--disable-dev-shm-usage', // small /dev/shm in containers crashes renderers
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--no-default-browser-check',
];

/** Settings that make the workbench deterministic: no welcome page, no trust prompt, nothing that
 * phones home or pops up over the UI the tests drive. Tests can override any of them. */
export const DEFAULT_USER_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'chat.commandCenter.enabled': false,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
};

// ---------------------------------------------------------------------------------------------
// Locations
// ---------------------------------------------------------------------------------------------

/** Tooling folder written by scripts/setup-e2e.sh (same default, same override variable). */
export function e2eHome(): string {
  return process.env.GRADFLOW_E2E_HOME ?? path.join(os.homedir(), '.cache', 'gradflow-e2e');
}

/** code-server's CLI entry (its package.json `bin`), run with the current Node 20. */
export function codeServerEntry(): string {
  return path.join(e2eHome(), 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

export function chromiumPath(): string {
  return process.env.GRADFLOW_E2E_CHROMIUM ?? '/usr/bin/chromium';
}

let cachedRoot: string | undefined;
/**
 * The repository root. Compiled tests live in out/test/e2e/ and scripts/run-ts.sh bundles into a
 * temp dir, so __dirname alone is not reliable: walk up from __dirname, then from the cwd, to the
 * package.json named "gradflow".
 */
export function repoRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  for (const start of [__dirname, process.cwd()]) {
    let dir = path.resolve(start);
    for (;;) {
      const pj = path.join(dir, 'package.json');
      if (fs.existsSync(pj)) {
        try {
          const name: unknown = (JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: unknown }).name;
          if (name === 'gradflow') return (cachedRoot = dir);
        } catch {
          // unreadable package.json: keep walking
        }
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error(`cannot find the gradflow repository root from ${__dirname} or ${process.cwd()}`);
}

/** Screenshots and other artifacts: test-results/e2e/ (gitignored). */
export function resultsDir(): string {
  const dir = path.join(repoRoot(), 'test-results', 'e2e');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Availability policy
// ---------------------------------------------------------------------------------------------

export interface E2EAvailability {
  ok: boolean;
  reason?: string;
}

export function e2eAvailable(): E2EAvailability {
  const missing: string[] = [];
  const entry = codeServerEntry();
  if (!fs.existsSync(entry)) missing.push(`code-server ${CODE_SERVER_VERSION} (${entry})`);
  else if (!fs.existsSync(path.join(e2eHome(), 'code-server', '.gradflow-e2e-complete'))) {
    missing.push(`a complete code-server install (no marker in ${path.join(e2eHome(), 'code-server')})`);
  }
  if (!fs.existsSync(chromiumPath())) missing.push(`chromium (${chromiumPath()})`);
  if (missing.length === 0) return { ok: true };
  return { ok: false, reason: `e2e tooling missing: ${missing.join(', ')}; run scripts/setup-e2e.sh` };
}

/** GRADFLOW_E2E=required: missing tooling is a failure, not a skip (CI sets it). */
export function e2eRequired(): boolean {
  return process.env.GRADFLOW_E2E === 'required';
}

/**
 * node:test `skip` option for an e2e describe/test: the reason string when tooling is missing and
 * not required; false otherwise (when required and missing, `requireE2E()` in `before` fails).
 */
export function e2eSkip(): string | false {
  const a = e2eAvailable();
  if (a.ok || e2eRequired()) return false;
  return a.reason ?? 'e2e tooling missing';
}

/** Call first in `before`: throws (fails the suite) when tooling is missing. */
export function requireE2E(): void {
  const a = e2eAvailable();
  if (!a.ok) throw new Error(`${a.reason ?? 'e2e tooling missing'} (GRADFLOW_E2E=required)`);
}

// ---------------------------------------------------------------------------------------------
// Process-group bookkeeping: code-server forks an extension host and more; killing only its pid
// leaves them running. Everything we start is detached (own group) and killed as a group, also
// when the test process exits without running its hooks.
// ---------------------------------------------------------------------------------------------

const liveGroups = new Set<number>();
let exitHookInstalled = false;
function killAllGroupsNow(): void {
  // Browsers are not in our groups (Playwright detaches chromium), so also kill every descendant.
  for (const pid of descendantPids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const g of liveGroups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  liveGroups.clear();
}
function trackGroup(pgid: number): void {
  liveGroups.add(pgid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' covers normal ends and uncaught errors; signals (Ctrl+C, a runner killing the file's
  // process) skip 'exit', so handle them too and then die with the conventional status.
  process.on('exit', killAllGroupsNow);
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(sig, () => {
      killAllGroupsNow();
      process.exit(code);
    });
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killGroup(pgid: number, graceMs = 5000): Promise<void> {
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    liveGroups.delete(pgid);
    return;
  }
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pgid)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // raced with exit
    }
  }
  liveGroups.delete(pgid);
}

interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
}

function listProcs(): ProcInfo[] {
  const procs: ProcInfo[] = [];
  for (const ent of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${ent}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.push({ pid: Number(ent), ppid: Number(rest[1]), comm });
    } catch {
      // process exited while we looked
    }
  }
  return procs;
}

function descendants(rootPid: number, procs: ProcInfo[]): ProcInfo[] {
  const inTree = new Set<number>([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
        inTree.add(p.pid);
        grew = true;
      }
    }
  }
  return procs.filter((p) => p.pid !== rootPid && inTree.has(p.pid));
}

function descendantPids(rootPid = process.pid): number[] {
  try {
    return descendants(rootPid, listProcs()).map((p) => p.pid);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// code-server
// ---------------------------------------------------------------------------------------------

export interface StartCodeServerOptions {
  /** Folder the workbench opens (must exist). */
  workspace: string;
  /** Unpacked extension folders, copied into the extensions dir as <publisher>.<name>-<version>. */
  extensionDirs?: string[] | undefined;
  /**
   * Use this extensions folder (e.g. one `installVsix` filled) instead of a fresh temp one. It is
   * the caller's: `stop()` does not delete it.
   */
  extensionsDir?: string;
  /** Extra user settings, merged over DEFAULT_USER_SETTINGS. */
  settings?: Record<string, unknown> | undefined;
  /** Extension under development, loaded through the URL payload (the CLI rejects the flag). */
  extensionDevelopmentPath?: string;
  /** Module whose exported run() is executed in the extension host (needs the path above). */
  extensionTestsPath?: string;
  /** How long to wait for GET /healthz: an idle base, scaled by `budget()` (default 30 s). */
  startTimeoutMs?: number;
  /**
   * Keep workspace trust on (default off: `--disable-workspace-trust`). Also set the user setting
   * `security.workspace.trust.enabled: true` (and `startupPrompt: 'never'` to open the folder in
   * Restricted Mode without the modal prompt).
   */
  workspaceTrust?: boolean;
  /**
   * No network for code-server and everything it starts (extension host, language server, the
   * trainers): it runs in a new network namespace (`unshare --net`, only loopback, no route out)
   * and listens on a unix socket in its temp folder, which a TCP forwarder in this process exposes
   * on 127.0.0.1:`port` for the browser (a filesystem socket is reachable across namespaces).
   * Linux, as root or with CAP_SYS_ADMIN: `offlineSupport()` says whether it works here, and
   * startCodeServer throws its reason when it does not.
   */
  offline?: boolean;
}

export interface CodeServer {
  /** Workbench base URL (with the dev-extension payload when one was given). Pass to openWorkbench. */
  url: string;
  port: number;
  /** Process-group id of code-server (= its pid). */
  pgid: number;
  workspace: string;
  userDataDir: string;
  extensionsDir: string;
  /** Last ~200 KB of code-server's stdout+stderr, for failure messages. */
  logs(): string;
  /** With `offline`: the unix socket code-server listens on (the browser uses `port`'s forwarder). */
  socketPath?: string;
  /** Kills the whole process group and removes the temp dirs; safe to call twice. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function healthz(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
  });
}

interface ExtensionManifest {
  publisher: string;
  name: string;
  version: string;
}

function readManifest(dir: string): ExtensionManifest {
  const pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Partial<ExtensionManifest>;
  if (!pj.publisher || !pj.name || !pj.version) {
    throw new Error(`${dir}/package.json needs publisher, name and version to be installed`);
  }
  return { publisher: pj.publisher, name: pj.name, version: pj.version };
}

/** Copies an unpacked extension into extensionsDir under the folder name VS Code expects. */
export function installExtensionDir(extensionsDir: string, dir: string): string {
  const m = readManifest(dir);
  const dest = path.join(extensionsDir, `${m.publisher}.${m.name}-${m.version}`.toLowerCase());
  fs.cpSync(dir, dest, {
    recursive: true,
    filter: (src) => !/[\\/](\.git|test-results|\.gradflow)$/.test(src),
  });
  return dest;
}

/**
 * Installs a .vsix into `extensionsDir` the way a user does (`code-server --install-extension`),
 * hermetically (empty config, temp user-data and XDG dirs). Resolves with the CLI's output; throws
 * with it when the install fails.
 */
export async function installVsix(vsix: string, extensionsDir: string, baseMs = 60_000): Promise<string> {
  const timeoutMs = budget(baseMs);
  const a = e2eAvailable();
  if (!a.ok) throw new Error(a.reason);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-e2e-install-'));
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.writeFileSync(path.join(tmp, 'config.yaml'), '');
  try {
    const args = [
      codeServerEntry(),
      '--config', path.join(tmp, 'config.yaml'),
      '--user-data-dir', path.join(tmp, 'user-data'),
      '--extensions-dir', extensionsDir,
      '--install-extension', path.resolve(vsix),
    ];
    const child = spawn(process.execPath, args, {
      cwd: tmp,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        XDG_CONFIG_HOME: path.join(tmp, 'config'),
        XDG_DATA_HOME: path.join(tmp, 'data'),
        XDG_CACHE_HOME: path.join(tmp, 'cache'),
        NODE_OPTIONS: '',
        NODE_TEST_CONTEXT: '',
        NODE_PATH: '',
      },
    });
    if (child.pid === undefined) throw new Error('failed to spawn code-server --install-extension');
    trackGroup(child.pid);
    let out = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr?.on('data', (b: Buffer) => (out += b.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        out += `\n(killed after ${timeoutMs} ms)`;
        void killGroup(child.pid!, 0);
      }, timeoutMs);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    liveGroups.delete(child.pid);
    if (code !== 0) throw new Error(`code-server --install-extension ${vsix} exited with ${String(code)}:\n${out}`);
    return out;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** vscode-remote URI of a server-side path, as the workbench payload wants it. */
function remoteUri(port: number, absPath: string): string {
  return `vscode-remote://127.0.0.1:${port}${path.resolve(absPath).split(path.sep).map(encodeURIComponent).join('/')}`;
}

let offlineProbe: E2EAvailability | undefined;
/**
 * Whether `offline` code-servers can start here: `unshare --net` (util-linux) creating a network
 * namespace and `ip link set lo up` inside it, tried once (needs Linux and root or CAP_SYS_ADMIN).
 */
export function offlineSupport(): E2EAvailability {
  if (offlineProbe !== undefined) return offlineProbe;
  if (process.platform !== 'linux') return (offlineProbe = { ok: false, reason: `offline code-server needs Linux network namespaces (this is ${process.platform})` });
  const r = spawnSync('unshare', ['--net', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8', timeout: budget(10_000) });
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error !== undefined ? r.error.message : `exit ${String(r.status)}: ${(r.stderr || r.stdout).trim()}`;
    return (offlineProbe = { ok: false, reason: `offline code-server: \`unshare --net sh -c 'ip link set lo up'\` failed (${why}); it needs root or CAP_SYS_ADMIN, util-linux and iproute2` });
  }
  return (offlineProbe = { ok: true });
}

/** A TCP listener on 127.0.0.1 that pipes every connection to the unix socket `socketPath`. */
async function unixForwarder(socketPath: string): Promise<{ port: number; close(): void }> {
  const conns = new Set<net.Socket>();
  const srv = net.createServer((client) => {
    const upstream = net.connect(socketPath);
    conns.add(client).add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      conns.delete(client);
      conns.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = await new Promise<number>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : 0);
    });
  });
  return {
    port,
    close: () => {
      srv.close();
      for (const c of conns) c.destroy();
    },
  };
}

export async function startCodeServer(opts: StartCodeServerOptions): Promise<CodeServer> {
  const a = e2eAvailable();
  if (!a.ok) throw new Error(a.reason);
  if (opts.offline === true) {
    const o = offlineSupport();
    if (!o.ok) throw new Error(o.reason);
  }
  if (!fs.statSync(opts.workspace).isDirectory()) throw new Error(`workspace ${opts.workspace} is not a folder`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-e2e-'));
  const userDataDir = path.join(tmp, 'user-data');
  const extensionsDir = opts.extensionsDir ?? path.join(tmp, 'extensions');
  const xdg = path.join(tmp, 'xdg');
  for (const d of [path.join(userDataDir, 'User'), extensionsDir, `${xdg}/config`, `${xdg}/data`, `${xdg}/cache`]) {
    fs.mkdirSync(d, { recursive: true });
  }
  // An empty --config: otherwise code-server reads (and creates) ~/.config/code-server/config.yaml,
  // whose password/auth settings would leak into the run.
  const configFile = path.join(tmp, 'config.yaml');
  fs.writeFileSync(configFile, '');
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...DEFAULT_USER_SETTINGS, ...(opts.settings ?? {}) }, null, 2),
  );
  for (const dir of opts.extensionDirs ?? []) installExtensionDir(extensionsDir, dir);

  const startTimeoutMs = budget(opts.startTimeoutMs ?? 30_000);
  let stopped = false;
  // Offline: code-server listens on a unix socket, the browser on this process's forwarder.
  const socketPath = opts.offline === true ? path.join(tmp, 'code-server.sock') : undefined;
  const forwarder = socketPath !== undefined ? await unixForwarder(socketPath) : undefined;
  const cleanupTmp = (): void => {
    forwarder?.close();
    if (process.env.GRADFLOW_E2E_KEEP !== '1') fs.rmSync(tmp, { recursive: true, force: true });
  };
  // freePort() releases the port before code-server binds it, so a parallel test file can take it
  // in between; code-server then exits with EADDRINUSE and we retry on a new port.
  for (let attempt = 1; ; attempt++) {
    const port = forwarder?.port ?? (await freePort());
    const args = [
      codeServerEntry(),
      '--config', configFile,
      '--user-data-dir', userDataDir,
      '--extensions-dir', extensionsDir,
      '--auth', 'none',
      ...(socketPath !== undefined ? ['--socket', socketPath] : ['--bind-addr', `127.0.0.1:${port}`]),
      '--disable-telemetry',
      '--disable-update-check',
      ...(opts.workspaceTrust === true ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      '--ignore-last-opened',
      opts.workspace,
    ];
    // Offline: `unshare --net` execs (no fork) into sh, which brings loopback up and execs Node, so
    // code-server keeps the pid, and so the process group, that stop() kills.
    const [command, argv] = socketPath !== undefined
      ? ['unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, ...args]] as const
      : [process.execPath, args] as const;
    const child: ChildProcess = spawn(command, argv, {
      cwd: opts.workspace,
      detached: true, // own process group, so stop() can kill the extension host too
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        XDG_CONFIG_HOME: `${xdg}/config`,
        XDG_DATA_HOME: `${xdg}/data`,
        XDG_CACHE_HOME: `${xdg}/cache`,
        // Our own test runner's variables must not reach the extension host's Node.
        NODE_OPTIONS: '',
        NODE_TEST_CONTEXT: '',
        NODE_PATH: '',
      },
    });
    const pgid = child.pid;
    if (pgid === undefined) {
      cleanupTmp();
      throw new Error('failed to spawn code-server');
    }
    trackGroup(pgid);

    let log = '';
    const append = (buf: Buffer): void => {
      log += buf.toString('utf8');
      if (log.length > 200_000) log = log.slice(-200_000);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    let exited: number | null | undefined;
    child.on('exit', (code) => (exited = code));

    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      await killGroup(pgid);
      child.stdout?.destroy();
      child.stderr?.destroy();
      cleanupTmp();
    };

    const t0 = Date.now();
    const deadline = t0 + startTimeoutMs;
    let ready = false;
    for (;;) {
      if (exited !== undefined) break;
      if ((await healthz(port)) === 200) {
        ready = true;
        break;
      }
      if (Date.now() > deadline) {
        logWait('code-server /healthz', Date.now() - t0, startTimeoutMs, false, log.slice(-300));
        await stop();
        throw new Error(`code-server not healthy on port ${port} after ${startTimeoutMs} ms (load ${at(os.loadavg(), 0).toFixed(2)}):\n${log}`);
      }
      await sleep(150);
    }
    if (!ready) {
      await killGroup(pgid);
      if (log.includes('EADDRINUSE') && attempt < 3) continue;
      await stop();
      throw new Error(`code-server exited with ${String(exited)} before it was ready:\n${log}`);
    }
    logWait('code-server /healthz', Date.now() - t0, startTimeoutMs, true);
    const started = await finishStart(opts, port, pgid, userDataDir, extensionsDir, () => log, stop);
    return socketPath !== undefined ? Object.assign(started, { socketPath }) : started;
  }
}

async function finishStart(
  opts: StartCodeServerOptions,
  port: number,
  pgid: number,
  userDataDir: string,
  extensionsDir: string,
  logs: () => string,
  stop: () => Promise<void>,
): Promise<CodeServer> {
  const url = new URL(`http://127.0.0.1:${port}/`);
  if (opts.extensionDevelopmentPath !== undefined) {
    const payload: [string, string][] = [['extensionDevelopmentPath', remoteUri(port, opts.extensionDevelopmentPath)]];
    if (opts.extensionTestsPath !== undefined) {
      payload.push(['extensionTestsPath', remoteUri(port, opts.extensionTestsPath)]);
    }
    url.searchParams.set('payload', JSON.stringify(payload));
  } else if (opts.extensionTestsPath !== undefined) {
    await stop();
    throw new Error('extensionTestsPath needs extensionDevelopmentPath');
  }

  const handle: CodeServer = {
    url: url.toString(),
    port,
    pgid,
    workspace: opts.workspace,
    userDataDir,
    extensionsDir,
    logs,
    stop: async () => {
      liveServers.delete(handle);
      await stop();
    },
  };
  liveServers.add(handle);
  return handle;
}

// ---------------------------------------------------------------------------------------------
// Browser and workbench helpers
// ---------------------------------------------------------------------------------------------

const liveBrowsers = new Set<Browser>();
const liveServers = new Set<CodeServer>();

export async function launchBrowser(): Promise<Browser> {
  // Playwright gives chromium a temp profile, but chromium still writes its crashpad database and
  // caches under XDG_CONFIG_HOME / XDG_CACHE_HOME (~/.config/chromium): point those at a temp dir.
  const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-e2e-chromium-'));
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: [...CHROMIUM_FLAGS],
      env: { ...process.env, XDG_CONFIG_HOME: xdg, XDG_CACHE_HOME: xdg },
    });
  } catch (e) {
    fs.rmSync(xdg, { recursive: true, force: true });
    throw e;
  }
  liveBrowsers.add(browser);
  browser.on('disconnected', () => {
    liveBrowsers.delete(browser);
    fs.rmSync(xdg, { recursive: true, force: true });
  });
  return browser;
}

/**
 * Closes every browser and code-server this process started and has not closed yet. Register
 * it in every e2e test file with a top-level `after(closeAll)`: an open browser connection keeps
 * the test file's process alive forever after a failed test skipped its own cleanup.
 */
export async function closeAll(): Promise<void> {
  await Promise.all([...liveBrowsers].map((b) => b.close().catch(() => undefined)));
  await Promise.all([...liveServers].map((s) => s.stop().catch(() => undefined)));
}

/** A page with a fixed, screenshot-friendly viewport. */
export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  return context.newPage();
}

/** Opens the workbench on `folder` (a server-side path) and waits until it is interactive (`baseMs`: idle base of `budget()`). */
export async function openWorkbench(page: Page, url: string, folder: string, baseMs = 30_000): Promise<void> {
  const timeoutMs = budget(baseMs);
  const t0 = Date.now();
  const u = new URL(url);
  u.searchParams.set('folder', path.resolve(folder));
  await page.goto(u.toString(), { waitUntil: 'domcontentloaded', timeout: timeoutMs });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  // The status bar and explorer appear once the workbench has restored its parts; before that,
  // keybindings such as F1 can be swallowed.
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('.monaco-workbench .part.activitybar, .monaco-workbench .part.sidebar').first()
    .waitFor({ state: 'visible', timeout: timeoutMs });
  logWait('the workbench', Date.now() - t0, timeoutMs, true);
}

/**
 * Opens a quick input with `shortcut`, types `text` and presses Enter once the focused row
 * contains `expect`. The palette snapshots the command list when it opens, so a command
 * contributed by an extension that is still being scanned (or a file not yet indexed) is missing
 * from that snapshot: close and reopen until it shows up or the timeout passes.
 */
async function pickInQuickInput(page: Page, shortcut: string, text: string, expect: string, baseMs: number): Promise<void> {
  const timeoutMs = budget(baseMs);
  const t0 = Date.now();
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('.quick-input-box input');
  const focusedMatch = page.locator('.quick-input-list .monaco-list-row.focused').filter({ hasText: expect });
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    // Focus the workbench first: keys go to whatever has focus, and a webview would swallow them.
    await page.locator('.monaco-workbench').focus().catch(() => undefined);
    await page.keyboard.press(shortcut);
    const left = (): number => Math.max(1000, deadline - Date.now());
    try {
      await input.waitFor({ state: 'visible', timeout: Math.min(budget(5000) * attempt, left()) });
    } catch (e) {
      // The quick input closes when something takes focus right after it opened (a webview
      // whose tab was just activated does): press the shortcut again.
      if (Date.now() >= deadline) {
        logWait(`quick input ${text}`, Date.now() - t0, timeoutMs, false, 'no quick input');
        throw new Error(`${shortcut} did not open the quick input within ${timeoutMs} ms (load ${at(os.loadavg(), 0).toFixed(2)})`, { cause: e });
      }
      continue;
    }
    await input.fill(text);
    try {
      await focusedMatch.waitFor({ state: 'visible', timeout: Math.min(budget(3000) * attempt, left()) });
      break;
    } catch (e) {
      await page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: budget(5000) }).catch(() => undefined);
      if (Date.now() >= deadline) {
        const rows = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts().catch(() => []);
        logWait(`quick input ${text}`, Date.now() - t0, timeoutMs, false, JSON.stringify(rows.slice(0, 5)));
        throw new Error(`"${expect}" not offered for "${text}" within ${timeoutMs} ms (load ${at(os.loadavg(), 0).toFixed(2)}); rows: ${JSON.stringify(rows.slice(0, 5))}`, { cause: e });
      }
    }
  }
  await page.keyboard.press('Enter');
  // Done when the palette has closed, or when the command put its own quick pick in the same widget
  // (e.g. Open Sweep…): then the widget never hides, but its input no longer holds what was typed.
  // The rest of the deadline, as a base of budget() (which scales it again only when the load rose).
  await waitFor(
    async () => !(await widget.isVisible()) || (await input.inputValue({ timeout: 1000 }).catch(() => text)) !== text || undefined,
    Math.max(1000, deadline - Date.now()) / loadFactor(),
    `the quick input to close after "${expect}"`,
    { seen: async () => ({ visible: await widget.isVisible().catch(() => false), value: await input.inputValue({ timeout: 1000 }).catch(() => '?') }) },
  );
  logWait(`quick input ${text}`, Date.now() - t0, timeoutMs, true);
}

/** Runs a command by its palette title (e.g. "View: Toggle Terminal"), like a user would. */
export async function runCommand(page: Page, title: string, timeoutMs = 30_000): Promise<void> {
  await pickInQuickInput(page, 'F1', `>${title}`, title, timeoutMs);
}

/**
 * Runs a command that asks with its own quick pick (e.g. "Gradflow: Open Sweep…") and picks the row
 * that contains `expect`. As with the palette (`pickInQuickInput`), a webview that had focus can
 * close a pick that just opened: VS Code polls webview focus every 250 ms, and a late report takes
 * focus from the pick (CI: the row there, focused, but hidden). The command is then run again.
 */
export async function runCommandAndPick(page: Page, title: string, expect: string, attempts = 3): Promise<void> {
  const row = page.locator('.quick-input-list .monaco-list-row.focused').filter({ hasText: expect });
  for (let attempt = 1; ; attempt++) {
    await runCommand(page, title);
    try {
      await waitForLocator(row, `the pick of "${title}" offering "${expect}"`, 10_000);
      break;
    } catch (e) {
      if (attempt >= attempts) throw e;
      console.log(`[e2e] the pick of "${title}" closed before "${expect}" was chosen (attempt ${attempt}); running it again`);
    }
  }
  await page.keyboard.press('Enter');
}

/** Opens a workspace file through quick open (Ctrl+P) and waits for its editor tab. */
export async function openFile(page: Page, relPath: string, baseMs = 30_000): Promise<void> {
  const base = path.basename(relPath);
  await pickInQuickInput(page, 'Control+P', relPath, base, baseMs);
  await waitForLocator(page.locator('.tabs-container .tab.active').filter({ hasText: base }), `the editor tab of ${base}`, baseMs, 'visible', () =>
    page.locator('.tabs-container .tab').allTextContents());
}

/**
 * Runs `fn`; if it throws, saves test-results/e2e/<name>-FAILED.png first, so a CI failure
 * comes with a picture of the workbench.
 */
export async function screenshotOnFailure<T>(page: Page | undefined, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (page !== undefined && !page.isClosed()) {
      await screenshot(page, `${name}-FAILED`).catch(() => undefined);
    }
    throw e;
  }
}

/**
 * The DOM of a webview: an outer `iframe.webview.ready` (VS Code's host page) containing the
 * `#active-frame` iframe with the extension's HTML. `index` picks among several open webviews.
 */
export function frameOfWebview(page: Page, index = 0): FrameLocator {
  return page.locator('iframe.webview.ready').nth(index).contentFrame().frameLocator('#active-frame');
}

/**
 * When a webview panel became visible, timed inside the browser (wall-clock ms, `Date.now()` of the
 * machine that runs both the browser and the tests): no polling from the test process, whose
 * round trips through two iframes add up to seconds on a loaded machine.
 *
 * - `enter`: the Enter key that ran the command (the first keydown of Enter after `arm()`).
 * - `tab`: the panel's tab is in the workbench.
 * - `shown`: VS Code made the webview's content frame visible (it keeps a loading frame hidden).
 * - `content`: `selector` matched an element with text in the content frame (the page's own DOM).
 * - `visible`: max(`shown`, `content`), what a user sees.
 */
export interface PanelOpenTimes {
  enter: number;
  tab?: number;
  shown?: number;
  content?: number;
  visible?: number;
  /** Text of the element that matched `selector`, when `content` is set. */
  contentText?: string;
}

export interface PanelOpenWatch {
  /** Starts a measurement: call right before pressing the keys that run the command. */
  arm(): Promise<void>;
  /** The times so far (wall clock); undefined when Enter was not seen. */
  read(): Promise<PanelOpenTimes | undefined>;
}

interface FrameTimes {
  enter?: number;
  tab?: number;
  shown?: number;
  content?: number;
  contentText?: string;
}

/**
 * The browser globals the watchers use, typed here: the test programs are compiled without the DOM
 * library (they are Node code), and these functions run in the page.
 */
interface WatchElement {
  textContent: string | null;
  style: { visibility: string };
}
interface FrameWatchWindow {
  __gfPanelTimes?: FrameTimes;
  __gfPanelWatch?: (sel: string, baseline: string) => void;
  __gfPanelObserver?: { disconnect(): void };
  __gfPanelKeydown?: (e: { key: string }) => void;
  document: {
    body: unknown;
    getElementById(id: string): WatchElement | null;
    querySelector(sel: string): WatchElement | null;
    querySelectorAll(sel: string): Iterable<WatchElement>;
  };
  addEventListener(type: 'keydown', cb: (e: { key: string }) => void, opts: { capture: boolean }): void;
  removeEventListener(type: 'keydown', cb: (e: { key: string }) => void, opts: { capture: boolean }): void;
  MutationObserver: new (cb: () => void) => { observe(target: unknown, opts: { subtree: boolean; childList: boolean }): void; disconnect(): void };
}

const panelWatchedContexts = new WeakSet<BrowserContext>();

/**
 * Watches the opening of the webview panel titled `tabTitle` whose page shows `selector`. Every
 * frame gets a watcher from an init script (it survives VS Code's `document.open()` of the content
 * frame, as timers do); `arm()` restarts the watchers of the frames already there (a panel left
 * open: its content counts when `selector`'s text changes) and puts a MutationObserver on the
 * workbench for the tab.
 */
export async function watchPanelOpen(page: Page, tabTitle: string, selector: string): Promise<PanelOpenWatch> {
  const context = page.context();
  if (!panelWatchedContexts.has(context)) {
    panelWatchedContexts.add(context);
    await context.addInitScript((sel: string) => {
      const w = globalThis as unknown as FrameWatchWindow & { location: { href: string; pathname: string } };
      // Only VS Code's webview frames: its host page (index.html) and the content frame, which the
      // host creates at about:blank (this window lives on through its load of fake.html).
      if (w.location.href !== 'about:blank' && !/\/webview\/browser\/pre\/(index|fake)\.html$/.test(w.location.pathname)) return;
      let timer: ReturnType<typeof setInterval> | undefined;
      w.__gfPanelWatch = (s: string, baseline: string) => {
        clearInterval(timer);
        const t: FrameTimes = {};
        w.__gfPanelTimes = t;
        const started = Date.now();
        timer = setInterval(() => {
          try {
            // The outer webview frame: VS Code makes the content frame `#active-frame`, visible, once it has loaded.
            const active = w.document.getElementById('active-frame');
            if (t.shown === undefined && active !== null && active.style.visibility !== 'hidden') t.shown = Date.now();
            // The content frame: the extension's page.
            const text = w.document.querySelector(s)?.textContent?.trim() ?? '';
            if (t.content === undefined && text !== '' && text !== baseline) {
              t.content = Date.now();
              t.contentText = text;
            }
            if (t.shown !== undefined || t.content !== undefined || Date.now() - started > 120_000) clearInterval(timer);
          } catch {
            // a document being replaced: look again on the next tick
          }
        }, 5);
      };
      w.__gfPanelWatch(sel, '');
    }, selector);
  }
  return {
    arm: async () => {
      for (const f of page.frames()) {
        if (f === page.mainFrame()) continue;
        await f.evaluate((sel: string) => {
          const w = globalThis as unknown as FrameWatchWindow;
          w.__gfPanelWatch?.(sel, w.document.querySelector(sel)?.textContent?.trim() ?? '');
        }, selector).catch(() => undefined);
      }
      await page.evaluate((title: string) => {
        const w = globalThis as unknown as FrameWatchWindow;
        const { document } = w;
        w.__gfPanelObserver?.disconnect();
        const t: FrameTimes = {};
        w.__gfPanelTimes = t;
        const hasTab = (): boolean => [...document.querySelectorAll('.editor-group-container .tab')].some((e) => (e.textContent ?? '').trim() === title);
        const obs = new w.MutationObserver(() => {
          if (t.tab === undefined && t.enter !== undefined && hasTab()) t.tab = Date.now();
        });
        obs.observe(document.body, { subtree: true, childList: true });
        w.__gfPanelObserver = obs;
        // One listener per page: the one of an earlier arm() goes with its observer.
        if (w.__gfPanelKeydown !== undefined) w.removeEventListener('keydown', w.__gfPanelKeydown, { capture: true });
        w.__gfPanelKeydown = (e) => {
          if (e.key !== 'Enter' || t.enter !== undefined) return;
          t.enter = Date.now();
          // A tab that is already there (the panel was left open) counts from Enter.
          if (hasTab()) t.tab = t.enter;
        };
        w.addEventListener('keydown', w.__gfPanelKeydown, { capture: true });
      }, tabTitle);
    },
    read: async () => {
      const wb = await page.evaluate(() => (globalThis as unknown as FrameWatchWindow).__gfPanelTimes);
      if (wb?.enter === undefined) return undefined;
      const enter = wb.enter;
      const out: PanelOpenTimes = { enter, ...(wb.tab !== undefined ? { tab: wb.tab } : {}) };
      for (const f of page.frames()) {
        if (f === page.mainFrame()) continue;
        const ft = await f.evaluate(() => (globalThis as unknown as FrameWatchWindow).__gfPanelTimes).catch(() => undefined);
        // A frame shown before Enter belongs to a panel left open: it is on screen from the start.
        if (ft?.shown !== undefined) out.shown = Math.min(out.shown ?? Infinity, Math.max(ft.shown, enter));
        if (ft?.content !== undefined && ft.content >= enter && (out.content === undefined || ft.content < out.content)) {
          out.content = ft.content;
          if (ft.contentText !== undefined) out.contentText = ft.contentText;
        }
      }
      if (out.shown !== undefined && out.content !== undefined) out.visible = Math.max(out.shown, out.content);
      return out;
    },
  };
}

/** Saves test-results/e2e/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(resultsDir(), `${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file });
  return file;
}

export interface ProblemsCount {
  errors: number;
  warnings: number;
  /** Raw aria-label of the status-bar item, for messages. */
  label: string;
}

/** Error/warning counts from the status bar's problems item (`#status.problems`). */
export async function problemsCount(page: Page, baseMs = 10_000): Promise<ProblemsCount> {
  const item = page.locator('[id="status.problems"]');
  await item.waitFor({ state: 'attached', timeout: budget(baseMs) });
  const label = (await item.getAttribute('aria-label')) ?? '';
  // VS Code 1.100 renders `<codicon-error> 1 <codicon-warning> 0`; the aria-label only mentions
  // the non-zero kinds ("Errors: 1", "No Problems"), so read the number after each icon.
  const counts = await item.evaluate((el) => {
    const after = (cls: string): number | null => {
      const icon = el.querySelector(`.codicon-${cls}`);
      const n = Number.parseInt(icon?.nextSibling?.textContent?.trim() ?? '', 10);
      return Number.isFinite(n) ? n : null;
    };
    return { errors: after('error'), warnings: after('warning') };
  });
  const fromLabel = (kind: string): number => {
    const m = new RegExp(`${kind}s?:\\s*(\\d+)|(\\d+)\\s+${kind}`, 'i').exec(label);
    return m ? Number(m[1] ?? m[2]) : 0;
  };
  return {
    errors: counts.errors ?? fromLabel('error'),
    warnings: counts.warnings ?? fromLabel('warning'),
    label,
  };
}

/**
 * The last `lines` lines of the output channels whose log file name matches `channel` (e.g.
 * /Gradflow/): VS Code writes every output channel to `<userDataDir>/logs/` (any depth, `*.log`). For failure
 * messages ("what did the extension do meanwhile").
 */
export function outputChannelTail(server: CodeServer, channel: RegExp, lines = 20): string {
  const out: string[] = [];
  const stack = [path.join(server.userDataDir, 'logs')];
  while (stack.length > 0) {
    const d = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.name.endsWith('.log') && channel.test(e.name)) out.push(...fs.readFileSync(p, 'utf8').split('\n').filter((l) => l !== ''));
    }
  }
  return out.slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------------------------
// The wait budget: every deadline in test/e2e/ comes from here
// ---------------------------------------------------------------------------------------------

/** Cores the load average is divided by (the machine's, or GRADFLOW_E2E_CORES). */
function cores(): number {
  const n = Number(process.env.GRADFLOW_E2E_CORES);
  return Number.isFinite(n) && n > 0 ? n : Math.max(1, os.availableParallelism());
}

/** Upper bound of the load factor (GRADFLOW_E2E_MAX_LOAD_FACTOR, default 4): a wedged run still fails. */
function maxLoadFactor(): number {
  const n = Number(process.env.GRADFLOW_E2E_MAX_LOAD_FACTOR);
  return Number.isFinite(n) && n >= 1 ? n : 4;
}

/**
 * How much slower than idle the machine is now: max(1, 1-minute load average / cores), capped at
 * `GRADFLOW_E2E_MAX_LOAD_FACTOR` (4). Read at the start of every wait, so a wait that starts while
 * the machine is busy gets the longer deadline.
 */
export function loadFactor(): number {
  const load = at(os.loadavg(), 0);
  return Math.min(maxLoadFactor(), Math.max(1, load / cores()));
}

/**
 * The one budget of the e2e suites: a wait whose idle allowance is `baseMs` gets
 * `baseMs × loadFactor() × GRADFLOW_E2E_BUDGET_SCALE` (default 1). Every timeout in test/e2e/ goes
 * through this function (node:test `timeout` options too, read when the file loads).
 */
export function budget(baseMs: number): number {
  const scale = Number(process.env.GRADFLOW_E2E_BUDGET_SCALE);
  return Math.round(baseMs * loadFactor() * (Number.isFinite(scale) && scale > 0 ? scale : 1));
}

/**
 * A node:test `timeout` (a test's or a suite's): `baseMs × GRADFLOW_E2E_MAX_LOAD_FACTOR` (the cap
 * of `loadFactor()`) × `GRADFLOW_E2E_BUDGET_SCALE`. It is fixed when the file loads, so it takes
 * the most any wait inside can get: a wait's own timeout, which says what it saw, always fires
 * first; the test's is the backstop.
 */
export function testTimeout(baseMs: number): number {
  const scale = Number(process.env.GRADFLOW_E2E_BUDGET_SCALE);
  return Math.round(baseMs * maxLoadFactor() * (Number.isFinite(scale) && scale > 0 ? scale : 1));
}

/**
 * One machine-readable line per wait, collected by scripts/e2e-soak.sh:
 * `[e2e-wait] {"what":…,"ms":…,"budgetMs":…,"load":…,"ok":…}`. `ms` is the wall time the wait took.
 */
export function logWait(what: string, ms: number, budgetMs: number, ok: boolean, seen?: string): void {
  const rec: Record<string, unknown> = { what, ms: Math.round(ms), budgetMs, load: Number(at(os.loadavg(), 0).toFixed(2)), ok };
  if (!ok && seen !== undefined) rec.seen = seen.slice(0, 500);
  console.log(`[e2e-wait] ${JSON.stringify(rec)}`);
}

function describeSeen(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s;
  } catch {
    return String(v);
  }
}

export interface WaitOptions<S> {
  /**
   * What the wait saw last, for the timeout message: called once when the wait times out (default:
   * the last value `fn` returned).
   */
  seen?: () => S | Promise<S>;
}

/**
 * Polls `fn` until it returns a value that is not undefined/false, for at most `budget(baseMs)`.
 * Logs the wait (`logWait`); on timeout throws with `what`, the budget, the load and what it saw
 * last (the caller's `seen`, else `fn`'s last value).
 */
export async function waitFor<T, S = unknown>(fn: () => T | Promise<T>, baseMs = 10_000, what = 'condition', opts: WaitOptions<S> = {}): Promise<Exclude<T, false | undefined>> {
  // An idle allowance is a constant of the wait, never what is left of a wall-clock total: wall time
  // already spent under load is not idle time, and subtracting it once gave a negative budget.
  if (!(baseMs > 0)) throw new RangeError(`waitFor(${what}): the idle allowance must be positive, got ${baseMs} ms`);
  const limit = budget(baseMs);
  const t0 = Date.now();
  const deadline = t0 + limit;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last !== undefined && last !== false) {
      logWait(what, Date.now() - t0, limit, true);
      return last as Exclude<T, false | undefined>;
    }
    if (Date.now() > deadline) {
      let seen: string;
      try {
        seen = opts.seen !== undefined ? describeSeen(await opts.seen()) : describeSeen(last);
      } catch (e) {
        seen = `(could not read: ${(e as Error).message})`;
      }
      logWait(what, Date.now() - t0, limit, false, seen);
      throw new Error(`timed out after ${limit} ms (base ${baseMs} ms × load factor, 1-min load ${at(os.loadavg(), 0).toFixed(2)} on ${cores()} cores) waiting for ${what}; last seen: ${seen}`);
    }
    await sleep(100);
  }
}

/** Anything with Playwright's `waitFor({ state, timeout })` (a Locator). */
export interface Waitable {
  waitFor(options: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number }): Promise<void>;
}

/**
 * `locator.waitFor` with the budget and the wait log. On timeout the error says `what`, the budget
 * and the load, plus what `seen` reports (e.g. the texts of the rows there were).
 */
export async function waitForLocator(
  locator: Waitable,
  what: string,
  baseMs = 10_000,
  state: 'attached' | 'detached' | 'visible' | 'hidden' = 'visible',
  seen?: () => unknown,
): Promise<void> {
  const limit = budget(baseMs);
  const t0 = Date.now();
  try {
    await locator.waitFor({ state, timeout: limit });
  } catch (e) {
    let saw = '';
    if (seen !== undefined) {
      try {
        saw = describeSeen(await seen());
      } catch (err) {
        saw = `(could not read: ${(err as Error).message})`;
      }
    }
    logWait(what, Date.now() - t0, limit, false, saw);
    throw new Error(`timed out after ${limit} ms (base ${baseMs} ms, 1-min load ${at(os.loadavg(), 0).toFixed(2)} on ${cores()} cores) waiting for ${what} to be ${state}${saw !== '' ? `; last seen: ${saw}` : ''}`, { cause: e });
  }
  logWait(what, Date.now() - t0, limit, true);
}

// ---------------------------------------------------------------------------------------------
// Extension-host tests (the `vscode` API), the code-server equivalent of @vscode/test-electron
// ---------------------------------------------------------------------------------------------

export interface ExtensionHostTestOptions {
  /** Folder to open; a fresh empty temp folder when omitted. */
  workspace?: string;
  settings?: Record<string, unknown>;
  /** Other extensions to install next to the one under test. */
  extensionDirs?: string[];
  timeoutMs?: number;
  /** Save test-results/e2e/<name>.png of the workbench when run() has ended (or timed out). */
  screenshotName?: string;
}

export interface ExtensionHostTestResult {
  exitCode: number;
  durationMs: number;
  /** Browser console lines; the extension host's console.* output is forwarded there. */
  console: string[];
  /** code-server's own output (extension host crashes show up here). */
  serverLog: string;
}

/**
 * Loads `extensionPath` as the extension under development and runs `testsModule`'s exported
 * `run(): Promise<void>` in the Node extension host. The workbench reports the result through
 * `window.codeAutomationExit(code)`: 0 when run() resolved, non-zero when it threw.
 */
export async function runExtensionHostTests(
  extensionPath: string,
  testsModule: string,
  options: ExtensionHostTestOptions = {},
): Promise<ExtensionHostTestResult> {
  const t0 = Date.now();
  const timeoutMs = budget(options.timeoutMs ?? 60_000);
  let tmpWorkspace: string | undefined;
  const workspace = options.workspace ?? (tmpWorkspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-e2e-ws-')));
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startCodeServer({
      workspace,
      settings: options.settings,
      extensionDirs: options.extensionDirs,
      extensionDevelopmentPath: path.resolve(extensionPath),
      extensionTestsPath: path.resolve(testsModule),
    });
    browser = await launchBrowser();
    const page = await newPage(browser);
    const consoleLines: string[] = [];
    page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
    let resolveExit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((r) => (resolveExit = r));
    await page.exposeFunction('codeAutomationExit', (code: unknown) => {
      resolveExit(typeof code === 'number' ? code : Number(code));
    });
    await openWorkbench(page, server.url, workspace, options.timeoutMs ?? 60_000);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<number>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`extension-host tests did not finish within ${timeoutMs} ms`)), timeoutMs);
    });
    let exitCode: number;
    const tRun = Date.now();
    try {
      exitCode = await Promise.race([exited, timedOut]);
      logWait('extension-host run()', Date.now() - tRun, timeoutMs, true);
    } catch (e) {
      logWait('extension-host run()', Date.now() - tRun, timeoutMs, false, consoleLines.slice(-5).join(' | '));
      const srvLog = server.logs();
      if (options.screenshotName !== undefined) await screenshot(page, `${options.screenshotName}-FAILED`).catch(() => undefined);
      throw new Error(`${(e as Error).message}\n--- console ---\n${consoleLines.join('\n')}\n--- code-server ---\n${srvLog}`);
    } finally {
      clearTimeout(timer);
    }
    if (options.screenshotName !== undefined) await screenshot(page, options.screenshotName).catch(() => undefined);
    return { exitCode, durationMs: Date.now() - t0, console: consoleLines, serverLog: server.logs() };
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (tmpWorkspace !== undefined) fs.rmSync(tmpWorkspace, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// A workspace in code-server: the preamble every UI suite shares
// ---------------------------------------------------------------------------------------------

export interface Workspace {
  /** The workspace folder (a fresh temp folder holding the given files). */
  dir: string;
  server: CodeServer;
  browser: Browser;
  page: Page;
  /** Closes the browser and code-server and deletes the folder; safe to call twice. */
  close(): Promise<void>;
}

export interface OpenWorkspaceOptions extends Omit<StartCodeServerOptions, 'workspace' | 'settings'> {
  /** How long to wait for the workbench (default 60 s). */
  workbenchTimeoutMs?: number;
}

/**
 * A temp folder `gradflow-e2e-<prefix>-*` holding `files` (relative path → text), code-server on
 * it with the repository as the extension under development (unless told otherwise), `settings`
 * over the harness defaults, a chromium page and the workbench open. Call first in `before`
 * (it checks the tooling, failing when GRADFLOW_E2E=required) and `close()` in `after`.
 */
export async function openWorkspace(
  prefix: string,
  files: Record<string, string>,
  settings: Record<string, unknown> = {},
  options: OpenWorkspaceOptions = {},
): Promise<Workspace> {
  requireE2E();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gradflow-e2e-${prefix}-`));
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text);
    }
    const { workbenchTimeoutMs, ...serverOptions } = options;
    server = await startCodeServer({ extensionDevelopmentPath: repoRoot(), ...serverOptions, workspace: dir, settings });
    browser = await launchBrowser();
    const page = await newPage(browser);
    await openWorkbench(page, server.url, dir, workbenchTimeoutMs ?? 60_000);
    return { dir, server, browser, page, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * The Runs view refreshes only what changed (src/extension/runs/runs-tree.ts): every refresh makes
 * VS Code's extension host drop the commands of the rows it replaces, and a click that lands in
 * between runs nothing. Run folders are real (written by RunWriter in a temp dir); `vscode` is a
 * small stand-in installed below (the view only needs events, tree items and a file watcher), the
 * run manager a stand-in holding the live runs; timers are node:test's mock timers.
 */
import Module from 'node:module';
import { after, before, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

// --- a `vscode` stand-in: what runs-tree.ts touches -------------------------------------------------
type Listener<T> = (e: T) => void;
class EventEmitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  readonly event = (l: Listener<T>): { dispose(): void } => {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}
class ThemeColor {
  constructor(readonly id: string) {}
}
class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}
class MarkdownString {
  value = '';
  constructor(value?: string) {
    this.value = value ?? '';
  }
  appendMarkdown(s: string): this {
    this.value += s;
    return this;
  }
  appendText(s: string): this {
    this.value += s;
    return this;
  }
}
class TreeItem {
  description?: string;
  iconPath?: unknown;
  tooltip?: unknown;
  contextValue?: string;
  id?: string;
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(
    readonly label: string,
    readonly collapsibleState?: number,
  ) {}
}
const watcherEvents = new EventEmitter<{ fsPath: string }>();
const vscodeStandIn = {
  EventEmitter,
  ThemeColor,
  ThemeIcon,
  MarkdownString,
  TreeItem,
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  workspace: {
    workspaceFolders: undefined,
    findFiles: (): Promise<unknown[]> => Promise.resolve([]),
    createFileSystemWatcher: () => ({
      onDidCreate: watcherEvents.event,
      onDidChange: watcherEvents.event,
      onDidDelete: watcherEvents.event,
      dispose: () => undefined,
    }),
  },
};
const M = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown };
const load = M._load;
M._load = function (request: string, parent: unknown, isMain: boolean): unknown {
  if (request === 'vscode') return vscodeStandIn;
  return load.call(this, request, parent, isMain);
};

// After the stand-in: these import `vscode`.
/* eslint-disable @typescript-eslint/no-require-imports */
const { RunsTreeProvider } = require('../../src/extension/runs/runs-tree') as typeof import('../../src/extension/runs/runs-tree');
/* eslint-enable @typescript-eslint/no-require-imports */
import type { RunsNode } from '../../src/extension/runs/runs-tree';
import type { LiveRun, RunManager } from '../../src/extension/runs/run-manager';
import { RunWriter } from '../../src/runs/store';
import { parseExperiment } from '../../src/config/parse';
import { finishedSummary } from '../helpers/run-summary';
import { tempFolder } from '../tmp';

function config(name: string) {
  const r = parseExperiment(`name: ${name}\n`, '/tmp/x.gradflow.yaml');
  assert.ok(r.config);
  return r.config;
}


/** The run manager as the view sees it: live runs, runs folders, change events. */
class ManagerStandIn {
  live: LiveRun[] = [];
  readonly changed = new EventEmitter<LiveRun | undefined>();
  readonly onDidChange = this.changed.event;
  constructor(private readonly dir: string) {}
  list(): LiveRun[] {
    return this.live;
  }
  runsDirs(): string[] {
    return [this.dir];
  }
  addRunsDir(): void {}
  /** The view hands the manager every runs-folder read, to follow the live runs it does not show. */
  adopted = 0;
  adoptLive(): LiveRun[] {
    this.adopted++;
    return [];
  }
}

function liveRun(key: string, name: string): LiveRun {
  const run = {
    key,
    name,
    uri: { fsPath: `/ws/${name}.gradflow.yaml` },
    status: 'running',
    backend: 'cpu',
    step: 10,
    totalSteps: 100,
    egf2: [1, 2],
    layerNames: [],
    startedAt: new Date('2026-01-01T00:00:00Z'),
    stopRequested: false,
    killedByUs: false,
  };
  return run as unknown as LiveRun;
}

let dir: string;
before(() => {
  dir = tempFolder('gf-runs-tree-');
  mock.timers.enable({ apis: ['setTimeout'] });
});
after(() => {
  mock.timers.reset();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the Runs view refreshes only when a row changed, and a live run only its own row', () => {
  const a = RunWriter.create(dir, config('alpha'));
  a.finish(finishedSummary(a.runId, a.runDir));
  const manager = new ManagerStandIn(dir);
  const tree = new RunsTreeProvider(manager as unknown as RunManager);
  const fired: (RunsNode | RunsNode[] | undefined)[] = [];
  tree.onDidChangeTreeData((e) => fired.push(e));
  // VS Code asks for the rows once the view is shown.
  assert.deepEqual(tree.getChildren().map((n) => n.kind === 'past' && n.run.name), ['alpha']);

  // File activity in the runs folder that changes no row (a heartbeat, a log line): no refresh.
  fs.writeFileSync(path.join(a.runDir, 'heartbeat'), 'x');
  watcherEvents.fire({ fsPath: path.join(a.runDir, 'heartbeat') });
  mock.timers.tick(5000);
  assert.deepEqual([...fired], [], 'no refresh for file events that change nothing shown');

  // A new run folder (a CLI run ended): the whole view, once.
  const b = RunWriter.create(dir, config('beta'));
  b.finish(finishedSummary(b.runId, b.runDir));
  watcherEvents.fire({ fsPath: path.join(b.runDir, 'summary.json') });
  watcherEvents.fire({ fsPath: path.join(b.runDir, 'metrics.jsonl') });
  mock.timers.tick(1000);
  assert.deepEqual([...fired], [undefined], 'one refresh of the whole view');
  assert.deepEqual(tree.getChildren().map((n) => (n.kind === 'past' ? n.run.name : n.kind)).sort(), ['alpha', 'beta']);
  fired.length = 0;

  // A live run starts: the list changed, the whole view.
  const run = liveRun('k1', 'gamma');
  manager.live = [run];
  manager.changed.fire(run);
  mock.timers.tick(1000);
  assert.deepEqual([...fired], [undefined]);
  const rows = tree.getChildren();
  const liveRow = rows.find((n) => n.kind === 'live');
  assert.ok(liveRow);
  fired.length = 0;

  // It progresses: only its row, the same object the view was given (VS Code finds rows by it).
  run.step = 50;
  run.egf2.push(4);
  manager.changed.fire(run);
  manager.changed.fire(run);
  mock.timers.tick(1000);
  assert.equal(fired.length, 1);
  const rowsFired = fired[0];
  assert.ok(Array.isArray(rowsFired), 'a list of rows, not the whole view');
  assert.equal(rowsFired.length, 1);
  assert.equal(rowsFired[0], liveRow, 'the live row itself');
  fired.length = 0;

  // A change event with nothing new to show: nothing.
  manager.changed.fire(run);
  mock.timers.tick(1000);
  assert.deepEqual([...fired], []);

  // The explicit Refresh command always redraws.
  tree.refresh();
  assert.deepEqual([...fired], [undefined]);
  tree.dispose();
});

test('an ended run shows the same EGF₂ live as after a reload: the summary average, not the last step', () => {
  const sub = fs.mkdtempSync(path.join(dir, 'egf-'));
  const w = RunWriter.create(sub, config('gamma'));
  const s = finishedSummary(w.runId, w.runDir);
  w.finish(s);
  const manager = new ManagerStandIn(sub);
  const run = liveRun('k-gamma', 'gamma') as LiveRun & { runId?: string; runDir?: string };
  // The last steps before it ended went far from the 11-point average (2).
  run.egf2.push(500, 9000);
  const tree = new RunsTreeProvider(manager as unknown as RunManager);
  manager.live = [run];
  const egfOf = (kind: 'live' | 'past'): string | undefined => {
    const node = tree.getChildren().find((n) => n.kind === kind);
    assert.ok(node, kind);
    return /EGF₂ \S+ \S+/.exec(tree.getTreeItem(node).description as string)?.[0];
  };
  // Running: the last value.
  assert.match(egfOf('live') ?? '', /^EGF₂ 9000 /);
  // It ended: the row shows the summary's average and its points, as the past row of the same folder does.
  run.status = 'finished';
  run.summary = s;
  const live = egfOf('live');
  manager.live = [];
  tree.refresh();
  const past = egfOf('past');
  assert.match(live ?? '', /^EGF₂ 2 /);
  assert.equal(live, past);
  tree.dispose();
});

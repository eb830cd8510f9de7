/**
 * A minimal stand-in for the `vscode` module, covering only what the dashboard panel calls, so the
 * panel's message handling is tested in plain Node. Importing this module installs it: it must be
 * imported before anything that imports `vscode`.
 */
import Module from 'node:module';

export class FakeUri {
  constructor(readonly fsPath: string) {}
  static file(p: string): FakeUri {
    return new FakeUri(p);
  }
  static joinPath(base: FakeUri, ...parts: string[]): FakeUri {
    return new FakeUri([base.fsPath, ...parts].join('/'));
  }
  toString(): string {
    return `https://webview.test${this.fsPath}`;
  }
}

export class FakeDisposable {
  constructor(private readonly fn: () => void) {}
  dispose(): void {
    this.fn();
  }
}

type Listener<T> = (e: T) => void;

class Emitter<T> {
  private listeners = new Set<Listener<T>>();
  readonly event = (l: Listener<T>): FakeDisposable => {
    this.listeners.add(l);
    return new FakeDisposable(() => this.listeners.delete(l));
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
}

/** Each fake webview's panel (the webview object is a plain literal). */
const panelOf = new WeakMap<object, FakeWebviewPanel>();

export class FakeWebviewPanel {
  readonly posted: unknown[] = [];
  visible = true;
  disposed = false;
  iconPath: unknown;
  viewColumn = 2;
  revealed = 0;
  readonly received = new Emitter<unknown>();
  readonly viewState = new Emitter<{ webviewPanel: FakeWebviewPanel }>();
  readonly disposeEmitter = new Emitter<void>();
  private htmlText = '';
  readonly webview = {
    // Like VS Code: a disposed webview refuses new HTML.
    get html(): string {
      return panelOf.get(this)?.htmlText ?? '';
    },
    set html(v: string) {
      const p = panelOf.get(this);
      if (p === undefined) return;
      if (p.disposed) throw new Error('Webview is disposed');
      p.htmlText = v;
    },
    options: {} as unknown,
    cspSource: 'https://webview.test',
    asWebviewUri: (u: FakeUri): FakeUri => u,
    postMessage: (m: unknown): Promise<boolean> => {
      if (!this.visible) return Promise.resolve(false);
      this.posted.push(JSON.parse(JSON.stringify(m)));
      return Promise.resolve(true);
    },
    onDidReceiveMessage: this.received.event,
  };
  readonly onDidChangeViewState = this.viewState.event;
  readonly onDidDispose = this.disposeEmitter.event;
  constructor(
    readonly viewType: string,
    readonly title: string,
    readonly showOptions: unknown,
    readonly options: unknown,
  ) {
    panelOf.set(this.webview, this);
  }
  reveal(): void {
    this.revealed++;
  }
  dispose(): void {
    if (this.disposed) return;
    // The tab goes away: a last view-state change (hidden), then the dispose event; new HTML after
    // that throws, as in VS Code.
    this.visible = false;
    this.viewState.fire({ webviewPanel: this });
    this.disposed = true;
    this.disposeEmitter.fire();
  }
  /** Test helper: hide or show the tab as VS Code would. */
  setVisible(v: boolean): void {
    this.visible = v;
    this.viewState.fire({ webviewPanel: this });
  }
}

export const fake = {
  panels: [] as FakeWebviewPanel[],
  saveDialogAnswer: undefined as FakeUri | undefined,
  saveDialogCalls: [] as unknown[],
  written: new Map<string, Uint8Array>(),
  errors: [] as string[],
};

const vscodeFake = {
  Uri: FakeUri,
  Disposable: FakeDisposable,
  ViewColumn: { Active: -1, Beside: -2, One: 1, Two: 2 },
  window: {
    createWebviewPanel: (viewType: string, title: string, show: unknown, options: unknown): FakeWebviewPanel => {
      const p = new FakeWebviewPanel(viewType, title, show, options);
      fake.panels.push(p);
      return p;
    },
    showSaveDialog: (opts: unknown): Promise<FakeUri | undefined> => {
      fake.saveDialogCalls.push(opts);
      return Promise.resolve(fake.saveDialogAnswer);
    },
    showErrorMessage: (m: string): Promise<undefined> => {
      fake.errors.push(m);
      return Promise.resolve(undefined);
    },
  },
  workspace: {
    workspaceFolders: [{ uri: new FakeUri('/ws') }],
    fs: {
      writeFile: (u: FakeUri, bytes: Uint8Array): Promise<void> => {
        fake.written.set(u.fsPath, bytes);
        return Promise.resolve();
      },
    },
  },
};

const M = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown };
const load = M._load;
M._load = function (request: string, parent: unknown, isMain: boolean): unknown {
  if (request === 'vscode') return vscodeFake;
  return load.call(this, request, parent, isMain);
};

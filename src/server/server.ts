/**
 * The Gradflow language server: thin handlers that wire the pure language service
 * (`src/languageservice/`) to the LSP connection. The transport (`--node-ipc` or `--stdio`) is picked
 * from the command line by `createConnection`. Logging goes only through `connection.console`, which
 * the client shows in its output channel; stdout belongs to the protocol when running over stdio.
 *
 * Every handler reads a document through the one `DocumentCache` (one parse per URI and version,
 * under the editor settings the client sent), and the server publishes one set of diagnostics per
 * file: the file's static problems and what its runs reported (`gradflow/runReport`).
 */
import {
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  alertRange,
  analyse,
  codeActions,
  codeLens,
  completion,
  DocumentCache,
  hover,
  recordedFixes,
  validate,
  type Diagnostic,
  type ExperimentDocument,
} from '../languageservice';
import { ALERT_RANGE, isAlertRangeParams, isRunReport, isServerInitializationOptions, isServerSettings, RUN_REPORT, type LspRange } from '../shared/lsp-protocol';
import { GRADFLOW_SCHEMA as schema } from '../config/schema';
import { RunReports } from './run-reports';
import { ServerSettingsStore } from './settings';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const settings = new ServerSettingsStore();
const cache = new DocumentCache((uri) => settings.layerFor(uri));
const runs = new RunReports();

/** Quiet time after the last edit before validating; keeps typing responsive. */
let validationDelayMs = 200;
const pending = new Map<string, NodeJS.Timeout>();
/** Version last validated per document: opening fires both open and change events for one version. */
const validated = new Map<string, number>();

connection.onInitialize((params): InitializeResult => {
  const options: unknown = params.initializationOptions;
  if (isServerInitializationOptions(options)) {
    if (options.validationDelayMs !== undefined) validationDelayMs = options.validationDelayMs;
    if (options.settings !== undefined) settings.set(options.settings);
  } else if (options !== undefined && options !== null) {
    connection.console.error(`initialization options not understood: ${JSON.stringify(options)}`);
  }
  settings.setFolders((params.workspaceFolders ?? []).map((f) => f.uri));
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      completionProvider: { triggerCharacters: [':', ' '], resolveProvider: false },
      codeLensProvider: { resolveProvider: false },
      codeActionProvider: { codeActionKinds: ['quickfix'] },
      workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
    },
    serverInfo: { name: 'gradflow-language-server' },
  };
});

connection.onInitialized(() => {
  connection.workspace.onDidChangeWorkspaceFolders((e) => {
    settings.changeFolders(e.added.map((f) => f.uri), e.removed.map((f) => f.uri));
    refreshAll();
  });
});

/** The one parse of an open document's current version. */
function parsed(doc: TextDocument): ExperimentDocument {
  return cache.get(doc.uri, doc.version, doc.getText());
}

/** The document now: the open one, else the text the last run report came with. */
function current(uri: string): ExperimentDocument | undefined {
  const open = documents.get(uri);
  if (open !== undefined) return parsed(open);
  const text = runs.textOf(uri);
  return text !== undefined ? analyse(text, uri, -1, settings.layerFor(uri)) : undefined;
}

/** Publish the file's static problems (when open) and its run diagnostics. `runText`: the text a run report just came with. */
function publish(uri: string, runText?: string): void {
  const open = documents.get(uri);
  let diagnostics: Diagnostic[];
  try {
    const doc = current(uri);
    if (doc === undefined) {
      diagnostics = [];
    } else {
      const run = runText === undefined ? undefined : runText === doc.text ? doc : analyse(runText, uri, -1, settings.layerFor(uri));
      diagnostics = [...(open !== undefined ? validate(doc) : []), ...runs.render(uri, doc, run)];
    }
  } catch (e) {
    // A bug in the validator must not take the server down; the user still sees it in the log.
    connection.console.error(`validation of ${uri} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return;
  }
  if (open !== undefined) validated.set(uri, open.version);
  void connection.sendDiagnostics({ uri, ...(open !== undefined ? { version: open.version } : {}), diagnostics });
}

function scheduleValidation(doc: TextDocument): void {
  if (validated.get(doc.uri) === doc.version) return;
  const previous = pending.get(doc.uri);
  if (previous !== undefined) clearTimeout(previous);
  if (runs.has(doc.uri)) {
    // Run diagnostics follow the text at once (a fixed setting's diagnostic goes as the fix lands).
    pending.delete(doc.uri);
    publish(doc.uri);
    return;
  }
  pending.set(
    doc.uri,
    setTimeout(() => {
      pending.delete(doc.uri);
      // The document may have closed while the timer ran.
      if (documents.get(doc.uri) !== undefined) publish(doc.uri);
    }, validationDelayMs),
  );
}

/** The settings or the workspace folders changed: every parse goes, every file is checked again. */
function refreshAll(): void {
  cache.clear();
  validated.clear();
  for (const doc of documents.all()) publish(doc.uri);
}

documents.onDidOpen((e) => publish(e.document.uri));
documents.onDidChangeContent((e) => scheduleValidation(e.document));
documents.onDidClose((e) => {
  const uri = e.document.uri;
  const timer = pending.get(uri);
  if (timer !== undefined) clearTimeout(timer);
  pending.delete(uri);
  validated.delete(uri);
  cache.delete(uri);
  // What a run reported stays visible (the Problems view lists closed files' run diagnostics too).
  if (runs.has(uri)) publish(uri);
  else void connection.sendDiagnostics({ uri, diagnostics: [] });
});

connection.onDidChangeConfiguration((params) => {
  const next: unknown = params.settings;
  // Pull-model clients send `null` here to say "ask me"; this client pushes the settings whole.
  if (next === null || next === undefined) return;
  if (!isServerSettings(next)) {
    connection.console.error(`settings not understood: ${JSON.stringify(next)}`);
    return;
  }
  settings.set(next);
  refreshAll();
});

connection.onNotification(RUN_REPORT.method, (params: unknown) => {
  if (!isRunReport(params)) {
    connection.console.error(`${RUN_REPORT.method}: report not understood`);
    return;
  }
  runs.apply(params);
  publish(params.uri, params.type === 'reset' ? undefined : params.text);
});

connection.onRequest(ALERT_RANGE.method, (params: unknown): LspRange | null => {
  if (!isAlertRangeParams(params)) {
    connection.console.error(`${ALERT_RANGE.method}: request not understood`);
    return null;
  }
  const open = documents.get(params.uri);
  const doc = open !== undefined && open.getText() === params.text ? parsed(open) : analyse(params.text, params.uri, -1, settings.layerFor(params.uri));
  return alertRange(doc, params.alert, params.runConfig, runs.kinds(params.uri)) ?? null;
});

connection.onHover((params) => {
  const doc = documents.get(params.textDocument.uri);
  return doc === undefined ? null : hover(parsed(doc), params.position, schema);
});

connection.onCompletion((params) => {
  const doc = documents.get(params.textDocument.uri);
  return doc === undefined ? [] : completion(parsed(doc), params.position, schema);
});

connection.onCodeLens((params) => {
  const doc = documents.get(params.textDocument.uri);
  return doc === undefined ? [] : codeLens(parsed(doc));
});

connection.onCodeAction((params) => {
  const doc = documents.get(params.textDocument.uri);
  if (doc === undefined) return [];
  const asked = params.context.diagnostics;
  return [...codeActions(parsed(doc), asked), ...recordedFixes(runs.fixes(doc.uri), asked)];
});

documents.listen(connection);
connection.listen();

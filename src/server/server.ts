/**
 * The Gradflow language server: thin handlers that wire the pure language service
 * (`src/languageservice/`) to the LSP connection. The transport (`--node-ipc` or `--stdio`) is picked
 * from the command line by `createConnection`. Logging goes only through `connection.console`, which
 * the client shows in its output channel; stdout belongs to the protocol when running over stdio.
 */
import {
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { codeActions, codeLens, completion, hover, validate, type Diagnostic } from '../languageservice';
import { isServerInitializationOptions } from '../shared/lsp-protocol';
import { GRADFLOW_SCHEMA as schema } from '../config/schema';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

/** Quiet time after the last edit before validating; keeps typing responsive. */
let validationDelayMs = 200;
const pending = new Map<string, NodeJS.Timeout>();
/** Version last validated per document: opening fires both open and change events for one version. */
const validated = new Map<string, number>();

connection.onInitialize((params): InitializeResult => {
  if (isServerInitializationOptions(params.initializationOptions) && params.initializationOptions.validationDelayMs !== undefined) {
    validationDelayMs = params.initializationOptions.validationDelayMs;
  }
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      completionProvider: { triggerCharacters: [':', ' '], resolveProvider: false },
      codeLensProvider: { resolveProvider: false },
      codeActionProvider: { codeActionKinds: ['quickfix'] },
    },
    serverInfo: { name: 'gradflow-language-server' },
  };
});

function validateNow(doc: TextDocument): void {
  let diagnostics: Diagnostic[];
  try {
    diagnostics = validate(doc.getText(), doc.uri);
  } catch (e) {
    // A bug in the validator must not take the server down; the user still sees it in the log.
    connection.console.error(`validation of ${doc.uri} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return;
  }
  validated.set(doc.uri, doc.version);
  void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
}

function scheduleValidation(doc: TextDocument): void {
  if (validated.get(doc.uri) === doc.version) return;
  const previous = pending.get(doc.uri);
  if (previous !== undefined) clearTimeout(previous);
  pending.set(
    doc.uri,
    setTimeout(() => {
      pending.delete(doc.uri);
      // The document may have closed while the timer ran.
      const current = documents.get(doc.uri);
      if (current !== undefined) validateNow(current);
    }, validationDelayMs),
  );
}

documents.onDidOpen((e) => validateNow(e.document));
documents.onDidChangeContent((e) => scheduleValidation(e.document));
documents.onDidClose((e) => {
  const timer = pending.get(e.document.uri);
  if (timer !== undefined) clearTimeout(timer);
  pending.delete(e.document.uri);
  validated.delete(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

connection.onHover((params) => {
  const doc = documents.get(params.textDocument.uri);
  return doc === undefined ? null : hover(doc.getText(), params.position, schema);
});

connection.onCompletion((params) => {
  const doc = documents.get(params.textDocument.uri);
  return doc === undefined ? [] : completion(doc.getText(), params.position, schema);
});

connection.onCodeLens((params) => {
  const doc = documents.get(params.textDocument.uri);
  return doc === undefined ? [] : codeLens(doc.getText(), doc.uri);
});

connection.onCodeAction((params) =>
  codeActions(params.textDocument.uri, params.context.diagnostics as Diagnostic[], documents.get(params.textDocument.uri)?.getText()),
);

documents.listen(connection);
connection.listen();

/**
 * The Gradflow language service: pure functions over an experiment file parsed once
 * (`ExperimentDocument`) and the JSON schema, with no editor or LSP-connection dependency (the server
 * in `src/server/` only wires them up). Everything that understands or edits an experiment file is
 * here: validation and its fixes, hover, completion, code lens, the run's alerts as diagnostics and
 * their quick fixes, and the one YAML editor.
 */
export { analyse, DocumentCache, uriToPath, type ExperimentDocument } from './document';
export { validate, codeActions, issueToDiagnostic } from './validate';
export { hover } from './hover';
export { completion } from './completion';
export { codeLens } from './codelens';
export { alertRange, diagnosticKey, recordedFixes, runDiagnostics, type RunDiagnostics } from './run-fixes';
export { emptyRunState, type RunFileState } from './run-plan';
export type { SchemaNode } from '../config/schema';
export * from './types';

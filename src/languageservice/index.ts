/**
 * The Gradflow language service: pure functions over an experiment file's text and the JSON schema,
 * with no editor or LSP-connection dependency (the server in `src/server/` only wires them up).
 */
export { validate, codeActions, issueToDiagnostic, uriToPath } from './validate';
export { hover } from './hover';
export { completion } from './completion';
export { codeLens } from './codelens';
export type { SchemaNode } from '../config/schema';
export * from './types';

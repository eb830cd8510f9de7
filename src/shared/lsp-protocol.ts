/**
 * Contract between the extension (language client, `src/extension/`) and the language server
 * (`src/server/`). Both programs import this module and nothing else from each other, so the
 * server can never pull in the editor API by accident.
 *
 * There are no custom requests or notifications yet: everything the server does is standard LSP
 * (diagnostics, hover, completion, code lens). What is shared is the language id, the commands the
 * server's code lenses invoke (implemented by the extension) and the initialization options.
 */

/** Language id of experiment files (`*.gradflow.yaml`), contributed in package.json. */
export const LANGUAGE_ID = 'gradflow-yaml';

/** Diagnostic `source` of the language server's (static) diagnostics. */
export const SERVER_SOURCE = 'gradflow';

/** Command run by the "▶ Run experiment" code lens; argument: the document URI string. Implemented by the extension. */
export const RUN_COMMAND = 'gradflow.run';

/** Command run by the "▶ Run sweep" code lens; argument: the document URI string. Implemented by the extension. */
export const RUN_SWEEP_COMMAND = 'gradflow.runSweep';

/** Sent by the client in `initialize` (`initializationOptions`). */
export interface ServerInitializationOptions {
  /** Milliseconds of quiet after an edit before a document is validated again. */
  validationDelayMs?: number;
}

export function isServerInitializationOptions(v: unknown): v is ServerInitializationOptions {
  if (typeof v !== 'object' || v === null) return false;
  const d = (v as Record<string, unknown>).validationDelayMs;
  return d === undefined || typeof d === 'number';
}

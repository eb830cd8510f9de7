/**
 * Contract between the extension (language client, `src/extension/`) and the language server
 * (`src/server/`). Both programs import this module and nothing else from each other, so the
 * server can never pull in the editor API by accident.
 *
 * Besides standard LSP (diagnostics, hover, completion, code lens, code actions) there is one custom
 * notification (the extension reports what a run said about a file: `RUN_REPORT`) and one custom
 * request (the dashboard's "reveal alert": `ALERT_RANGE`). The editor settings reach the server in
 * the initialization options and in `workspace/didChangeConfiguration` (`ServerSettings`), so the
 * server resolves a file exactly as the run manager does.
 */
import { isArrayOf, isNum, isOneOf, isOptional, isRecord, isShape, isString, type Guard } from './guards';
import { BACKENDS, type BackendPreference, type ExperimentConfig } from './experiment';
import { ALERT_KINDS, type Alert } from './protocol';

/** Language id of experiment files (`*.gradflow.yaml`), contributed in package.json. */
export const LANGUAGE_ID = 'gradflow-yaml';

/** Diagnostic `source` of the language server's static diagnostics (problems of the file itself). */
export const SERVER_SOURCE = 'gradflow';

/** Diagnostic `source` of the diagnostics a run reported (alerts, trainer errors naming a key). */
export const RUN_SOURCE = 'gradflow run';

/** Command run by the "▶ Run experiment" code lens; argument: the document URI string. Implemented by the extension. */
export const RUN_COMMAND = 'gradflow.run';

/** Command run by the "▶ Run sweep" code lens; argument: the document URI string. Implemented by the extension. */
export const RUN_SWEEP_COMMAND = 'gradflow.runSweep';

/** The `gradflow.thresholds.*` editor settings: the alert thresholds a file leaves unset. */
export interface ThresholdSettings {
  explosionMaxNorm: number;
  explosionGrowthFactor: number;
  explosionWindow: number;
  collapseMinNorm: number;
  collapseSteps: number;
}

/** The editor settings that fill in what an experiment file leaves unset (`src/config/settings.ts` layers them). */
export interface RunSettings {
  backend: BackendPreference;
  /** '' = `.gradflow/runs` in the workspace folder. Relative = against the workspace folder. */
  runsDir: string;
  thresholds: ThresholdSettings;
}

/**
 * The settings the server reads, all of them: sent by the client in `initialize`
 * (`initializationOptions.settings`) and again, whole, in every `workspace/didChangeConfiguration`
 * (`params.settings`) when a `gradflow.*` setting changes.
 */
export interface ServerSettings {
  run: RunSettings;
}

/** Sent by the client in `initialize` (`initializationOptions`). */
export interface ServerInitializationOptions {
  /** Milliseconds of quiet after an edit before a document is validated again. */
  validationDelayMs?: number;
  settings?: ServerSettings;
}

const isThresholds: Guard<ThresholdSettings> = isShape<ThresholdSettings>({
  explosionMaxNorm: isNum,
  explosionGrowthFactor: isNum,
  explosionWindow: isNum,
  collapseMinNorm: isNum,
  collapseSteps: isNum,
});

export const isServerSettings: Guard<ServerSettings> = isShape<ServerSettings>({
  run: isShape<RunSettings>({ backend: isOneOf(BACKENDS), runsDir: isString, thresholds: isThresholds }),
});

export const isServerInitializationOptions: Guard<ServerInitializationOptions> = isShape<ServerInitializationOptions>({
  validationDelayMs: isOptional(isNum),
  settings: isOptional(isServerSettings),
});

const isAlert: Guard<Alert> = isShape<Alert>({
  net: isOneOf(['sparse', 'dense'] as const),
  kind: isOneOf(ALERT_KINDS),
  step: isNum,
  layer: isNum,
  value: (v): v is Alert['value'] => isNum(v) || v === 'NaN' || v === 'Infinity' || v === '-Infinity',
  message: isString,
  severity: isOneOf(['error', 'warning'] as const),
  key: isOptional(isString),
});
/** The run's config is the trainer's own input, written by the extension that resolved it: checked for shape at the top only. */
const isConfig: Guard<ExperimentConfig> = (v): v is ExperimentConfig =>
  isRecord(v) && isRecord(v.model) && isRecord(v.training) && isRecord(v.sparsity) && isRecord(v.run);

/**
 * What a run of an experiment file reports about that file. `uri` is the document's; `text` is the
 * file as the editor had it when the report was made (the baseline against which later edits are
 * told apart, and the text used when the server does not have the document open).
 */
export type RunReport =
  /** A new run of the file starts: the previous run's diagnostics go. */
  | { type: 'reset'; uri: string }
  /** A training alert; `config` is the run's resolved configuration, `layerNames` from its `ready`. */
  | { type: 'alert'; uri: string; text: string; alert: Alert; config: ExperimentConfig; layerNames: string[] }
  /** The trainer refused a setting (`error` with `key`): shown on that key. */
  | { type: 'trainer-error'; uri: string; text: string; key: string; message: string };

/**
 * Notification `gradflow/runReport`, client → server. Sent by the extension's run manager for each
 * run event that belongs on the experiment file (rust-analyzer's flycheck does the same for cargo's
 * output): the server owns the file's diagnostics, so it publishes the run's alerts beside the static
 * problems, keeps them on the right lines as the file is edited, and answers their quick fixes.
 */
export const RUN_REPORT = { method: 'gradflow/runReport' } as const;

export const isRunReport: Guard<RunReport> = (v): v is RunReport => {
  if (!isRecord(v) || !isString(v.uri)) return false;
  switch (v.type) {
    case 'reset':
      return true;
    case 'alert':
      return isString(v.text) && isAlert(v.alert) && isConfig(v.config) && isArrayOf(isString)(v.layerNames);
    case 'trainer-error':
      return isString(v.text) && isString(v.key) && isString(v.message);
    default:
      return false;
  }
};

/** Params of `ALERT_RANGE`. */
export interface AlertRangeParams {
  uri: string;
  /** The document as the editor has it now. */
  text: string;
  alert: Alert;
  /** The config the run used, for when the file no longer parses. */
  runConfig?: ExperimentConfig;
}

/** A 0-based range, as LSP has it. */
export interface LspRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

/**
 * Request `gradflow/alertRange`, client → server, answered with the range of the setting most
 * responsible for an alert (`LspRange`) or null. Sent when an alert is clicked in the dashboard: the
 * jump lands where the alert's diagnostic is, because the server computes both from the same parse
 * and the same settings.
 */
export const ALERT_RANGE = { method: 'gradflow/alertRange' } as const;

export const isAlertRangeParams: Guard<AlertRangeParams> = isShape<AlertRangeParams>({
  uri: isString,
  text: isString,
  alert: isAlert,
  runConfig: isOptional(isConfig),
});

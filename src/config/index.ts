/** Public API of the experiment-file package (see docs/experiment-file.md). */
export { parseExperiment, loadExperimentFile, type ParseOptions, type LoadedExperiment } from './parse';
export { keyRange, toSnakePath, positionsOfText, type PositionIndex } from './positions';
export { expandSweep, iterateSweep, sweepRunCount, configId, canonicalJson, type SweepRun } from './sweep';
export { denseWidthFromDensity, defaultExperimentName } from './resolve';
export { scsdcDensities } from '../shared/scsdc';
export { GRADFLOW_SCHEMA, schemaAt, allKeyPaths, leafKeyPaths, closest, type SchemaNode, type SchemaType } from './schema';
export { ConfigError, formatIssue, type ConfigIssue, type IssueCode, type IssueSeverity, type ParseResult, type Range, type SweepAxis, type LinkedSweepAxis, isLinkedAxis, type SweepSpec } from './types';

/**
 * Gradflow statistics library: pure TypeScript re-implementations of the SciPy 1.10 tests the study
 * uses (docs/statistics.md), checked against SciPy reference values in test/fixtures/stats/.
 */

export { StatsError } from './errors';
export type { Alternative, StatsErrorCode } from './errors';
export { erfc, normCdf, normSf, logGamma, logBeta, incompleteBeta, studentTCdf } from './special';
export { rankAverage, tieTerm } from './ranks';
export type { Ranking } from './ranks';
export { kendallTau, kendallExactPValue } from './kendall';
export type { KendallMethod, KendallOptions, KendallResult } from './kendall';
export { wilcoxon, wilcoxonExactPmf } from './wilcoxon';
export type { WilcoxonMethod, WilcoxonOptions, WilcoxonResult, WilcoxonZeroMethod } from './wilcoxon';
export { mannWhitneyU, mannWhitneyExactPmf } from './mannWhitney';
export type { MannWhitneyMethod, MannWhitneyOptions, MannWhitneyResult } from './mannWhitney';
export { pairedTTest } from './tTest';
export type { PairedTTestOptions, PairedTTestResult } from './tTest';
export { holm } from './holm';
export type { HolmResult } from './holm';
export {
  partialKendall,
  partialKendallTau,
  granulatedKendall,
  withinLevelKendall,
  mulberry32,
  bootstrapIndices,
  quantile,
  bootstrapAbsTauDifferences,
} from './correlation';
export type {
  PartialKendallResult,
  GranulatedAxis,
  GranulatedOptions,
  GranulatedGroup,
  GranulatedAxisResult,
  GranulatedResult,
  BootstrapOptions,
  BootstrapMeasure,
  BootstrapResult,
} from './correlation';

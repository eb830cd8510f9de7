/**
 * SC-SDC layer densities (method.md §2), the one definition: the config package documents them,
 * the engine shows them. Pure; used by the trainer, the CLI and the extension.
 */

/**
 * Nominal density of each weight layer of a sparse MLP of width h_S paired with a dense twin of
 * width h_D: first and output layers h_D/h_S, hidden-to-hidden (h_D/h_S)². With no hidden layer the
 * single layer maps d → C and has density 1 (no hidden width to shrink).
 */
export function scsdcDensities(sparseWidth: number, denseWidth: number, hiddenLayers: number): number[] {
  const r = denseWidth / sparseWidth;
  const out: number[] = [];
  for (let l = 0; l <= hiddenLayers; l++) {
    const first = l === 0;
    const last = l === hiddenLayers;
    out.push(hiddenLayers === 0 ? 1 : first || last ? r : r * r);
  }
  return out;
}

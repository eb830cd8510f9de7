/**
 * Axis tick rules of the dashboard's step charts, kept apart from chart.js so they can be tested
 * in plain Node.
 */

/**
 * A step axis ends at the last step (`bounds: 'data'`), which chart.js labels besides its round
 * ticks: a last step just past a round one drew both labels on top of each other ("500516"). Drops
 * the round tick before the end when it sits closer than half a tick spacing to it; the end keeps
 * its label. Changes `axis.ticks` in place (chart.js's `afterBuildTicks` hook).
 */
export function dropCrowdedLastTick(axis: { ticks: { value: number }[] }): void {
  const t = axis.ticks;
  const [third, second, end] = t.slice(-3);
  if (third === undefined || second === undefined || end === undefined) return;
  const spacing = second.value - third.value;
  if (spacing > 0 && end.value - second.value < 0.5 * spacing) t.splice(t.length - 2, 1);
}

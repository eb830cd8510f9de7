/**
 * Layer groups for deep nets (issue 19): conv nets name their weight layers `stem`,
 * `group2.block3.conv1`, `group1.block1.shortcut`, `fc`; the group of a layer is the prefix before
 * its first dot, and a name without a dot is a group of its own. The dashboard groups the per-layer
 * chart, the heatmap and the layers table by it. Nets whose names have no dot (the MLPs' `dense1`
 * … `output`) have no groups: they are drawn as before.
 */

export interface LayerGroup {
  /** The prefix before the first dot, or the whole name of an undotted layer. */
  name: string;
  /** Indices of its layers in the net, in order. */
  layers: number[];
}

/** The group of one layer name. */
export function groupOf(layerName: string): string {
  const dot = layerName.indexOf('.');
  return dot > 0 ? layerName.slice(0, dot) : layerName;
}

/** The name inside its group (`block3.conv1`), or the whole name of an undotted layer. */
export function nameInGroup(layerName: string): string {
  const dot = layerName.indexOf('.');
  return dot > 0 ? layerName.slice(dot + 1) : layerName;
}

/**
 * The groups of a net's layers in order of first appearance, or `null` when no name has a dot
 * (nothing to group). A group's layers need not be contiguous; they keep the net's order.
 */
export function layerGroups(names: readonly string[]): LayerGroup[] | null {
  if (!names.some((n) => n.indexOf('.') > 0)) return null;
  const out: LayerGroup[] = [];
  const byName = new Map<string, LayerGroup>();
  names.forEach((n, i) => {
    const g = groupOf(n);
    let group = byName.get(g);
    if (!group) {
      group = { name: g, layers: [] };
      byName.set(g, group);
      out.push(group);
    }
    group.layers.push(i);
  });
  return out;
}

/** Above this many layers (per net) the per-layer chart's legend is hidden and colours go by group. */
export const MANY_LAYERS = 16;

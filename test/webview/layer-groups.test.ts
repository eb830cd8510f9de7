/** Layer groups of deep nets and the step axis's crowded last tick: pure rules, by hand. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { groupOf, layerGroups, nameInGroup } from '../../src/shared/webview/layer-groups';
import { dropCrowdedLastTick } from '../../src/shared/webview/ticks';
import { DEEP_LAYERS, deepLayerNames } from './deep-fixture';

describe('layer groups', () => {
  it('an MLP (no dotted names) has no groups', () => {
    assert.equal(layerGroups(['dense1', 'dense2', 'output']), null);
    assert.equal(layerGroups([]), null);
  });

  it('groups by the prefix before the first dot, undotted names alone, in order of first appearance', () => {
    const g = layerGroups(['stem', 'group1.block1.conv1', 'group1.block1.conv2', 'group2.block1.shortcut', 'group2.block1.conv1', 'fc']);
    assert.deepEqual(g, [
      { name: 'stem', layers: [0] },
      { name: 'group1', layers: [1, 2] },
      { name: 'group2', layers: [3, 4] },
      { name: 'fc', layers: [5] },
    ]);
  });

  it('a group split by another keeps all its layers in net order', () => {
    assert.deepEqual(layerGroups(['a.x', 'b.y', 'a.z']), [{ name: 'a', layers: [0, 2] }, { name: 'b', layers: [1] }]);
  });

  it('the name inside a group drops the group only', () => {
    assert.equal(groupOf('group2.block3.conv1'), 'group2');
    assert.equal(nameInGroup('group2.block3.conv1'), 'block3.conv1');
    assert.equal(groupOf('fc'), 'fc');
    assert.equal(nameInGroup('fc'), 'fc');
    // A leading dot is not a group separator.
    assert.equal(groupOf('.hidden'), '.hidden');
  });

  it('the 56-layer fixture: stem, 3 groups of 18, 19 and 17 layers, fc', () => {
    const names = deepLayerNames();
    assert.equal(names.length, DEEP_LAYERS);
    assert.equal(new Set(names).size, DEEP_LAYERS);
    const g = layerGroups(names);
    assert.deepEqual(g?.map((x) => [x.name, x.layers.length]), [['stem', 1], ['group1', 18], ['group2', 19], ['group3', 17], ['fc', 1]]);
  });
});

describe('dropCrowdedLastTick', () => {
  const ticks = (...v: number[]): { ticks: { value: number }[] } => ({ ticks: v.map((value) => ({ value })) });
  const values = (a: { ticks: { value: number }[] }): number[] => a.ticks.map((t) => t.value);

  it('drops the round tick 16 steps before the end at spacing 100 ("500516")', () => {
    const a = ticks(0, 100, 200, 300, 400, 500, 516);
    dropCrowdedLastTick(a);
    assert.deepEqual(values(a), [0, 100, 200, 300, 400, 516]);
  });

  it('keeps a round tick half a spacing or more away', () => {
    const a = ticks(0, 100, 200, 250);
    dropCrowdedLastTick(a);
    assert.deepEqual(values(a), [0, 100, 200, 250]);
    const b = ticks(0, 100, 200, 249);
    dropCrowdedLastTick(b);
    assert.deepEqual(values(b), [0, 100, 249]);
  });

  it('leaves evenly spaced ticks and short lists alone', () => {
    const a = ticks(0, 2, 4, 6);
    dropCrowdedLastTick(a);
    assert.deepEqual(values(a), [0, 2, 4, 6]);
    const b = ticks(0, 7);
    dropCrowdedLastTick(b);
    assert.deepEqual(values(b), [0, 7]);
  });
});

/**
 * `engine.sparse_kernels: on` with a conv net in the editor: the conv layers have a sparse path (the
 * direct sparse convolution), so the file has no diagnostic on that key for cnn or wrn (until it was
 * wired in, `on` was an error here with `auto` as the fix), and hovering the key says what it does
 * for conv nets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../../src/languageservice/document';
import { hover } from '../../src/languageservice/hover';
import { codeActions, validate } from '../../src/languageservice/validate';
import { GRADFLOW_SCHEMA } from '../../src/config/schema';
import { DiagnosticSeverity } from '../../src/languageservice/types';
import { SPARSE_CONV_AUTO_MAX_DENSITY, SPARSE_CONV_AUTO_MAX_DENSITY_STRIDED } from '../../src/engine/nn/build';

const uri = 'file:///tmp/ws/conv-sparse-kernels.gradflow.yaml';

const TEXT = [
  'name: conv-sparse-kernels', //                   0
  'dataset:', //                                    1
  '  name: synthetic', //                           2
  '  synthetic: {shape: [8, 8, 1], classes: 3}', // 3
  'model:', //                                      4
  '  architecture: cnn', //                         5
  '  channels: [4, 8]', //                          6
  'sparsity:', //                                   7
  '  method: random', //                            8
  '  density: 0.5', //                              9
  'engine:', //                                     10
  '  sparse_kernels: on   # try the sparse path', // 11
  '',
].join('\n');

test('sparse_kernels on with a cnn or a wrn: no diagnostic on the key, no quick fix, the value resolved', () => {
  const wrn = TEXT.replace('shape: [8, 8, 1]', 'shape: [32, 32, 3]').replace('  architecture: cnn\n  channels: [4, 8]\n', '  architecture: wrn\n  depth: 10\n  widen_factor: 1\n');
  for (const [what, text] of [
    ['cnn', TEXT],
    ['wrn', wrn],
  ] as const) {
    const doc = analyse(text, uri);
    const diags = validate(doc);
    assert.deepEqual(
      diags.filter((d) => d.severity === DiagnosticSeverity.Error || d.message.includes('sparse_kernels')),
      [],
      what,
    );
    assert.deepEqual(codeActions(doc, diags), [], what);
    assert.equal(doc.parsed.config?.engine?.sparseKernels, 'on', what);
  }
});

test('hover on sparse_kernels documents the conv path and its auto rule', () => {
  const h = hover(analyse(TEXT, uri), { line: 11, character: 4 }, GRADFLOW_SCHEMA);
  assert.ok(h);
  assert.match(h.contents.value, /Conv nets \(`cnn`, `wrn`\): the sparse path of a masked conv layer is the direct sparse convolution/);
  // The rule the hover states is the one the engine applies (nn/build.ts).
  assert.ok(
    h.contents.value.includes(`\`auto\` takes it for masked conv layers of density ≤ ${SPARSE_CONV_AUTO_MAX_DENSITY} (stride 1) or ≤ ${SPARSE_CONV_AUTO_MAX_DENSITY_STRIDED} (strided) on the \`wasm\` backend`),
    h.contents.value,
  );
});

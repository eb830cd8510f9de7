/** pruning-conv.test.ts on the wasm backend (XNNPACK convolutions, im2col filter gradient). */
import './wasm-backend';
import './pruning-conv.test';

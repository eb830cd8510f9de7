/** conv-reference.test.ts on the wasm backend (im2col filter gradient, XNNPACK convolutions). */
import './wasm-backend';
import './conv-reference.test';

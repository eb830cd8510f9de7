/**
 * sparse-conv.test.ts again with the TF.js wasm backend as the masked-dense reference (its filter
 * gradient is the im2col product of nn/conv.ts; the default test backend is cpu, whose
 * Conv2DBackpropFilter kernel is used there).
 */
import './wasm-backend';
import './sparse-conv.test';

/** conv-train.test.ts again on the TF.js wasm backend (no Conv2DBackpropFilter kernel: the im2col filter gradient). */
import './wasm-backend';
import './conv-train.test';

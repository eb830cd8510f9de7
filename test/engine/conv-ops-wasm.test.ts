/** conv-ops.test.ts on the wasm backend, which has no Conv2DBackpropFilter kernel (the im2col path runs). */
import './wasm-backend';
import './conv-ops.test';

/** conv-paths.test.ts on the wasm backend (no Conv2DBackpropFilter kernel; XNNPACK convolutions). */
import './wasm-backend';
import './conv-paths.test';

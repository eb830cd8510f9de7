/** Imported first by *-wasm.test.ts: the engine tests that follow run on the wasm backend (helpers.testBackend). */
process.env.GRADFLOW_TEST_BACKEND = 'wasm';

/** fastconv.test.ts on the wasm backend. */
import './wasm-backend';
import './fastconv.test';

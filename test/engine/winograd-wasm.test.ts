/** winograd.test.ts on the wasm backend. */
import './wasm-backend';
import './winograd.test';

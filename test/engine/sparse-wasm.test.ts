/**
 * sparse.test.ts again on the TF.js wasm backend, where the sparse path reads tensors in place from
 * the backend's heap (heap.tensorValues) and hands its products back as views of the kernels'
 * memory; the default test backend is cpu.
 */
import './wasm-backend';
import './sparse.test';

/**
 * The browser-safe core: tensors, kernels, the MSRN graph and the weight format. Nothing here
 * imports a Node API, so this entry point runs in a browser or a Web Worker as it is.
 */
export * from './tensor/index.js';
export * from './ops/index.js';
export * from './msrn/index.js';
export * from './quant/index.js';

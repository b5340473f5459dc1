// Loaded into a page as an ordinary same-origin script, so the page's CSP applies to it (code
// that a test evaluates through DevTools is exempt from the eval check): records whether the page
// may eval or compile WebAssembly, as a wasm engine would need to.
let evalBlocked = false;
try {
  new Function('return 1')();
} catch {
  evalBlocked = true;
}
let wasmBlocked = false;
try {
  await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); // the empty module
} catch {
  wasmBlocked = true;
}
document.body.dataset.cspProbe = JSON.stringify({ evalBlocked, wasmBlocked });

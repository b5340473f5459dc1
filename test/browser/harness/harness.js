// The test harness page: msrn-ts/browser loaded unbundled, as native ES modules straight from
// dist/ (no bundler), exposed to the tests as window.msrn.
import * as msrn from '/pkg/dist/browser/index.js';

window.msrn = msrn;
/** FNV-1a over bytes: lets a test compare images without shipping them out of the page. */
window.fnv1a = (bytes) => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193) >>> 0;
  return hash;
};
document.body.dataset.ready = 'true';

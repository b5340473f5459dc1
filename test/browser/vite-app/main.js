// A minimal app as a user writes it: msrn-ts/browser with its defaults (the shipped weights, the
// bundled worker), which Vite must find and emit from the `new URL(..., import.meta.url)` forms.
import { upscale } from 'msrn-ts/browser';

const blob = await (await fetch('/chelsea.png')).blob();
const image = await upscale(blob, { threads: 2 });
window.upscaled = image;
document.body.dataset.done = 'true';

#!/usr/bin/env node
/**
 * The `msrn` command: argument parsing and file handling over the library (src/cli/*), no model
 * logic of its own. Exit codes: 0 ok, 1 runtime error (bad file, bad weights...), 2 usage error.
 * Errors print one line on stderr; set MSRN_DEBUG=1 to see the stack.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from './cli/common.js';
import { UPSCALE_USAGE } from './cli/usage.js';

const HELP = `msrn: MSRN super-resolution in pure TypeScript

Usage:
  ${UPSCALE_USAGE}
  msrn info <blob>
  msrn calibrate <image-dir> -o <model.int8.bin> [--weights <fp32 blob>] [--count 50] [--size HxW]
                 [--method max|percentile] [--percentile 99.99] [--threads <n>]
  msrn compare <image> [--weights <fp32 blob>] [--int8 <int8 blob>] [--json]
  msrn eval <hr-dir> [--lr-dir <dir>] [--scale 2] [--precision fp32[,int8]] [--json <file>]
            [--weights <fp32 blob>] [--int8 <int8 blob>] [--protocol standard|card --size HxW] [--y float|u8]
            [--ensemble] [--threads <n>]
  msrn resize <input> -o <output> --scale <s>
  msrn metrics <reference> <test> [--shave <px>] [--y float|u8] [--json]
  msrn showcase <hr-image> -o <out.png> [--crop x,y,w,h] [--zoom 3] [--weights <blob>] [--precision fp32|int8]
  msrn --help | --version

Commands:
  upscale    Upscale an image by the model's scale (x2 for the default weights). The output
             format follows the extension of -o (.png, .jpg, .jpeg). --ensemble: self-ensemble
             (MSRN+), the mean of the model on the 8 flips and transposes; 8x the time.
  info       Print a blob's config, parameter count, checksum (int8: calibration and scales).
  calibrate  Calibrate fp32 weights on a folder of images and write the int8 model: max
             (the model card's recipe, default) or a percentile of |x| per tensor.
  compare    Run fp32 and int8 on one image: PSNR between them and the SQNR of every
             quantized tensor, to see which layer costs most.
  eval       Score bicubic, fp32 and/or int8 on a folder of HR images. standard: Y-PSNR/SSIM,
             shave = scale, LR by MATLAB bicubic (or --lr-dir). card: the model card's own
             protocol (LR resized to --size, RGB, no shave).
             --y float (default): luma as MSRN's Evaluate_PSNR_SSIM.m forms it (not rounded);
             --y u8: luma rounded to 8 bits first (older scripts; 0.03-0.05 dB lower).
  resize     MATLAB imresize bicubic (antialiased when shrinking, 8-bit rounding per pass).
  metrics    Y-PSNR and SSIM (BT.601 luma, float64, peak 255) of <test> against <reference>;
             --y as for eval.
  showcase   Bicubic | MSRN | ground truth crops side by side, from an HR image (LR made by
             MATLAB bicubic), enlarged with nearest neighbour.

Weights default to the blobs shipped in the package (weights/msrn_x2.bin, weights/msrn_x2.int8.bin).
`;

/**
 * Each command's module is imported only when it runs: a cold `msrn upscale` then loads what
 * upscale needs and not eval's, calibrate's or showcase's modules (measured: 106 ms to import all
 * the commands, 80 ms for upscale's alone).
 */
const COMMANDS: Record<string, () => Promise<(args: string[]) => Promise<void>>> = {
  upscale: async () => (await import('./cli/upscale.js')).upscaleCommand,
  info: async () => (await import('./cli/info.js')).infoCommand,
  calibrate: async () => (await import('./cli/calibrate.js')).calibrateCommand,
  compare: async () => (await import('./cli/compare.js')).compareCommand,
  eval: async () => (await import('./cli/eval.js')).evalCommand,
  resize: async () => (await import('./cli/images.js')).resizeCommand,
  metrics: async () => (await import('./cli/images.js')).metricsCommand,
  showcase: async () => (await import('./cli/images.js')).showcaseCommand,
};

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (command === '--version' || command === '-v') {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return;
  }
  const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!load) throw new UsageError(`unknown command '${command}'`);
  await (await load())(rest);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`msrn: ${message.split('\n')[0]}\n`);
    if (error instanceof UsageError) process.stderr.write("Run 'msrn --help' for usage.\n");
    if (process.env.MSRN_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);

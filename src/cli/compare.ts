import { rgbaToTensor } from '../image/pixels.js';
import { srMetrics } from '../image/metrics.js';
import { checkInt8MatchesFp32 } from '../quant/int8-blob.js';
import { compareInt8 } from '../quant/report.js';
import { readImageFile } from '../node/image-files.js';
import { loadModel } from '../node/weights-files.js';
import { UsageError, formatDb, parse, toJson } from './common.js';

/** `msrn compare`: fp32 and int8 on one image, and the SQNR of every quantized tensor. */
export async function compareCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    weights: { type: 'string' },
    int8: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('compare takes exactly one image');
  const fp32 = await loadModel('fp32', values.weights);
  const int8 = await loadModel('int8', values.int8);
  if (fp32.precision !== 'fp32' || int8.precision !== 'int8') throw new Error('internal: wrong model kinds');
  checkInt8MatchesFp32(int8.model.data, { config: fp32.model.config, checksum: fp32.model.checksum });
  const image = rgbaToTensor(await readImageFile(positionals[0]));
  const report = compareInt8(fp32.model, int8.model, image);
  const y = srMetrics(report.fp32Output, report.int8Output, 0);
  if (values.json) {
    const { points, psnr, maxDifference } = report;
    process.stdout.write(`${toJson({ image: positionals[0], psnrRgb: psnr, psnrY: y.psnr, ssimY: y.ssim, maxDifference, points })}\n`);
    return;
  }
  const lines = [
    `image: ${positionals[0]} (${image.width}x${image.height})`,
    `int8 vs fp32 output: PSNR ${formatDb(report.psnr)} dB (RGB), ${formatDb(y.psnr)} dB (Y), SSIM ${y.ssim.toFixed(4)} (Y), max difference ${report.maxDifference}`,
    '',
    'tensor                 point                  scale       SQNR dB   clipped   rms/step',
    ...report.points.map((p) =>
      `${p.name.padEnd(22)} ${p.point.padEnd(22)} ${p.scale.toPrecision(4).padStart(9)} ${formatDb(p.sqnr).padStart(10)} ${(100 * p.clipped).toFixed(3).padStart(8)}% ${p.rmsSteps.toFixed(1).padStart(10)}`,
    ),
    '',
    'SQNR: int8 (dequantized) against fp32 at the same tensor; errors accumulate down the table.',
    'rms/step: the fp32 RMS in quantization steps; a low value means the tensor uses few int8 levels.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

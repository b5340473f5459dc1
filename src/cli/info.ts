import { decodeContainer } from '../msrn/container.js';
import { describeConfig, parameterCount } from '../msrn/config.js';
import { formatCrc32 } from '../msrn/crc32.js';
import { readWeightBlob } from '../msrn/weights-blob.js';
import { readInt8Blob } from '../quant/int8-blob.js';
import { UsageError, parse } from './common.js';
import { readFileBytes } from '../node/image-files.js';

export async function infoCommand(args: string[]): Promise<void> {
  const { positionals } = parse(args, {});
  if (positionals.length !== 1) throw new UsageError('info takes exactly one blob');
  const path = positionals[0];
  const bytes = await readFileBytes(path);
  const kind = decodeContainer(bytes, 'weight blob').header.kind;
  const lines = [`file:        ${path}`];
  if (kind === 'msrn-int8') {
    const model = readInt8Blob(bytes);
    const { config, calibration } = model;
    lines.push(
      `format:      msrn-int8 model blob, ${bytes.length} bytes`,
      `model:       MSRN ${describeConfig(config)}, int8 weights per output channel, int8 activations per tensor`,
      `calibration: ${calibration.method === 'max' ? 'max' : `percentile ${calibration.percentile}%`}, ${calibration.images} image(s)${calibration.size ? `, resized to ${calibration.size[0]}x${calibration.size[1]}` : ''}`,
      `from fp32:   crc32 ${formatCrc32(model.fp32Checksum)}`,
      `checksum:    crc32 ${formatCrc32(new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 4, true))}`,
      'scales:',
      ...Object.entries(model.scales).map(([point, s]) => `  ${point.padEnd(20)} ${s.toPrecision(6)}  (max |x| ${(s * 127).toPrecision(6)})`),
    );
  } else {
    const blob = readWeightBlob(bytes);
    const { config } = blob;
    lines.push(
      `format:      msrn-fp32 weight blob, ${bytes.length} bytes`,
      `model:       MSRN ${describeConfig(config)}`,
      `rgb range:   0..${config.rgbRange}, mean (${config.rgbMean.join(', ')})`,
      `parameters:  ${parameterCount(config).toLocaleString('en-US')} (+${parameterCount(config, true) - parameterCount(config)} in the mean shifts)`,
      `checksum:    crc32 ${formatCrc32(blob.checksum)}`,
      ...Object.entries(blob.meta).map(([k, v]) => `${`${k}:`.padEnd(12)} ${v}`),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

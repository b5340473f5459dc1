import { MsrnConfig, upsamplerStages } from '../msrn/config.js';

/**
 * The int8 graph of docs/INT8.md section 4 as data: which quantization point each conv reads and
 * writes, and its output clamp. Quantization, the blob reader and the int8 forward pass all walk
 * this one list, so they cannot disagree about the wiring.
 */
export const IMAGE_POINT = 'image'; // the u8 input image, scale 1
export const OUTPUT_POINT = 'output'; // the u8 output image, scale 1

export interface QuantConvSpec {
  /** state_dict prefix, e.g. 'body.0.conv_5_1' */
  readonly prefix: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly inPoint: string;
  readonly outPoint: string;
  /** output clamp: [-127, 127], [0, 127] with ReLU, [0, 255] for the output image */
  readonly lo: number;
  readonly hi: number;
}

export interface QuantAddSpec {
  /** 'body.<b>.add' */
  readonly name: string;
  /** the confusion output */
  readonly aPoint: string;
  /** the block input, also the output point */
  readonly xPoint: string;
  readonly outPoint: string;
}

export interface Int8Graph {
  readonly convs: readonly QuantConvSpec[];
  readonly adds: readonly QuantAddSpec[];
  /** every calibrated quantization point, in graph order */
  readonly points: readonly string[];
}

export const ADD_LEFT_SHIFT = 20;

export function int8Graph(config: MsrnConfig): Int8Graph {
  const n = config.nFeats;
  const c = config.nColors;
  const convs: QuantConvSpec[] = [];
  const adds: QuantAddSpec[] = [];
  const points: string[] = ['input', 'features'];
  const conv = (prefix: string, cin: number, cout: number, k: number, inPoint: string, outPoint: string, relu = false) =>
    convs.push({ prefix, inChannels: cin, outChannels: cout, kernelSize: k, inPoint, outPoint, lo: relu ? 0 : -127, hi: 127 });

  conv('sub_mean', c, c, 1, IMAGE_POINT, 'input');
  conv('head.0', c, n, 3, 'input', 'features');
  for (let b = 0; b < config.nBlocks; b++) {
    const body = `body.${b}`;
    points.push(`${body}.cat1`, `${body}.cat2`, `${body}.confusion`);
    conv(`${body}.conv_3_1`, n, n, 3, 'features', `${body}.cat1`, true);
    conv(`${body}.conv_5_1`, n, n, 5, 'features', `${body}.cat1`, true);
    conv(`${body}.conv_3_2`, 2 * n, 2 * n, 3, `${body}.cat1`, `${body}.cat2`, true);
    conv(`${body}.conv_5_2`, 2 * n, 2 * n, 5, `${body}.cat1`, `${body}.cat2`, true);
    conv(`${body}.confusion`, 4 * n, n, 1, `${body}.cat2`, `${body}.confusion`);
    adds.push({ name: `${body}.add`, aPoint: `${body}.confusion`, xPoint: 'features', outPoint: 'features' });
  }
  points.push('tail.0', 'tail.1');
  conv('tail.0', n * (config.nBlocks + 1), n, 1, 'features', 'tail.0');
  conv('tail.1', n, n, 3, 'tail.0', 'tail.1');
  let previous = 'tail.1';
  for (const stage of upsamplerStages(config.scale)) {
    points.push(stage.prefix);
    conv(stage.prefix, n, stage.factor * stage.factor * n, 3, previous, stage.prefix);
    previous = stage.prefix;
  }
  points.push('tail.3');
  conv('tail.3', n, c, 3, previous, 'tail.3');
  convs.push({ prefix: 'add_mean', inChannels: c, outChannels: c, kernelSize: 1, inPoint: 'tail.3', outPoint: OUTPUT_POINT, lo: 0, hi: 255 });
  return { convs, adds, points };
}

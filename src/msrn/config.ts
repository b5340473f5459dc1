/**
 * MSRN hyper-parameters and the state_dict layout they imply.
 *
 * The tensor names and shapes are exactly those of the official MIVRC/MSRN-PyTorch module
 * (tools/msrn_model.py), in its state_dict order, so a PyTorch checkpoint maps one to one.
 */
export type Scale = 2 | 3 | 4 | 8;
export const SUPPORTED_SCALES: readonly Scale[] = [2, 3, 4, 8];

export interface MsrnConfig {
  readonly nFeats: number;
  readonly nBlocks: number;
  readonly scale: Scale;
  /** Always 3: RGB in, RGB out. */
  readonly nColors: number;
  /** Pixel values run 0..rgbRange (255 for the model card's build). */
  readonly rgbRange: number;
  /** Mean per channel as a fraction of rgbRange; MeanShift subtracts rgbRange * rgbMean. */
  readonly rgbMean: readonly [number, number, number];
}

/** The model card's build: n_feats 16, n_blocks 2, x2, 0..255, DIV2K mean. */
export const DEFAULT_CONFIG: MsrnConfig = {
  nFeats: 16,
  nBlocks: 2,
  scale: 2,
  nColors: 3,
  rgbRange: 255,
  rgbMean: [0.4488, 0.4371, 0.404],
};

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** One conv+PixelShuffle stage of the upsampler and the state_dict prefix of its conv. */
export interface UpsamplerStage {
  readonly factor: 2 | 3;
  readonly prefix: string;
}

/** x2^k: k stages of conv(n, 4n) + PixelShuffle(2); x3: one stage of conv(n, 9n) + PixelShuffle(3). */
export function upsamplerStages(scale: Scale): UpsamplerStage[] {
  if (scale === 3) return [{ factor: 3, prefix: 'tail.2.0' }];
  const stages: UpsamplerStage[] = [];
  for (let s = 1, i = 0; s < scale; s *= 2, i++) stages.push({ factor: 2, prefix: `tail.2.${2 * i}` });
  return stages;
}

/** Every tensor of the state_dict, in PyTorch's order, with its shape. */
export function expectedTensors(config: MsrnConfig): TensorSpec[] {
  const n = config.nFeats;
  const colors = config.nColors;
  const specs: TensorSpec[] = [];
  const conv = (prefix: string, cout: number, cin: number, k: number) => {
    specs.push({ name: `${prefix}.weight`, shape: [cout, cin, k, k] });
    specs.push({ name: `${prefix}.bias`, shape: [cout] });
  };
  conv('sub_mean', colors, colors, 1);
  conv('head.0', n, colors, 3);
  for (let b = 0; b < config.nBlocks; b++) {
    conv(`body.${b}.conv_3_1`, n, n, 3);
    conv(`body.${b}.conv_3_2`, 2 * n, 2 * n, 3);
    conv(`body.${b}.conv_5_1`, n, n, 5);
    conv(`body.${b}.conv_5_2`, 2 * n, 2 * n, 5);
    conv(`body.${b}.confusion`, n, 4 * n, 1);
  }
  conv('tail.0', n, n * (config.nBlocks + 1), 1);
  conv('tail.1', n, n, 3);
  for (const stage of upsamplerStages(config.scale)) conv(stage.prefix, stage.factor * stage.factor * n, n, 3);
  conv('tail.3', colors, n, 3);
  conv('add_mean', colors, colors, 1);
  return specs;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Trainable parameters as the model card counts them (102,579 for the default): mean shifts excluded. */
export function parameterCount(config: MsrnConfig, includeMeanShift = false): number {
  let total = 0;
  for (const spec of expectedTensors(config)) {
    if (!includeMeanShift && /^(sub|add)_mean\./.test(spec.name)) continue;
    total += elementCount(spec.shape);
  }
  return total;
}

/** Multiply-accumulates per low-resolution input pixel (103,536 for the default config). */
export function macsPerInputPixel(config: MsrnConfig): number {
  let macs = 0;
  let area = 1; // output pixels of the current layer per LR pixel
  for (const spec of expectedTensors(config)) {
    if (!spec.name.endsWith('.weight') || /^(sub|add)_mean\./.test(spec.name)) continue;
    const [cout, cin, k] = spec.shape;
    macs += area * cout * cin * k * k;
    // After an upsampler conv the PixelShuffle multiplies the spatial area.
    const stage = upsamplerStages(config.scale).find((s) => `${s.prefix}.weight` === spec.name);
    if (stage) area *= stage.factor * stage.factor;
  }
  return macs;
}

/**
 * Pixels of context each output pixel depends on, per side, in LR pixels: the halo a tile needs
 * so that tiled inference equals whole-image inference (3x3 convs add 1, 5x5 add 2, convs after
 * an upsampler count in the finer grid).
 */
export function receptiveFieldRadius(config: MsrnConfig): number {
  // At LR resolution: head 3x3 (1), per block two rounds of parallel 3x3 | 5x5 (2 + 2), tail.1 3x3 (1).
  let radius = 1 + 4 * config.nBlocks + 1;
  // Each upsampler conv is 3x3 at the resolution reached so far; tail.3 is 3x3 at full scale.
  let resolution = 1;
  for (const stage of upsamplerStages(config.scale)) {
    radius += 1 / resolution;
    resolution *= stage.factor;
  }
  radius += 1 / resolution;
  return Math.ceil(radius);
}

export function describeConfig(config: MsrnConfig): string {
  return `n_feats ${config.nFeats}, n_blocks ${config.nBlocks}, x${config.scale}`;
}

export {
  decodeImage,
  encodeImage,
  encodePng,
  encodeJpeg,
  readDimensions,
  sniffFormat,
  readImageHeader,
  hasTransparency,
  ImageDecodeError,
  DEFAULT_MAX_PIXELS,
} from './codec.js';
export type { RgbaImage, ImageFormat } from './codec.js';
export { rgbaToTensor, rgbaChannel, tensorToRgba, toByte } from './pixels.js';
export { imresizeBicubic, resizeBilinear, contributions, cubic } from './resize.js';
export type { ResizeOptions, ResizePlan } from './resize.js';
export { rgbToY, channelPlanes, shave, mse, psnr, ssim, srMetrics, Y_CONVENTIONS } from './metrics.js';
export type { YConvention } from './metrics.js';
export type { Plane } from './metrics.js';

/** The upscale synopsis, shared by --help (cli.ts) and the command, without loading the command. */
export const UPSCALE_USAGE =
  'msrn upscale <input.png|.jpg|folder> -o <output.png|.jpg|folder> [--weights <blob>] [--precision fp32|int8]\n' +
  '               [--tile <px>] [--threads <n>] [--ensemble] [--quality 1-100] [--max-pixels N] [--quiet]';

import { open, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RgbaImage, decodeImage, sniffFormat } from '../image/codec.js';
import { describeFsError } from './weights-files.js';

/** A file's bytes, or an error that names the file and says what is wrong in plain words. */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new Error(`cannot read ${path}: ${describeFsError(error)}`);
  }
}

/** Node helpers to read images from disk with errors that name the file. */
export async function readImageFile(path: string, maxPixels?: number): Promise<RgbaImage> {
  const bytes = await readFileBytes(path);
  try {
    return decodeImage(bytes, maxPixels);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}

/**
 * The PNG/JPEG files of a folder (told by content, not by name), sorted by name. Files that are
 * not images are skipped and reported through `onSkip`.
 */
export async function listImageFiles(folder: string, onSkip?: (path: string, why: string) => void): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch (error) {
    throw new Error(`cannot read folder ${folder}: ${describeFsError(error)}`);
  }
  const images: string[] = [];
  for (const name of names.sort()) {
    const path = join(folder, name);
    const head = new Uint8Array(16);
    try {
      const file = await open(path, 'r');
      try {
        await file.read(head, 0, 16, 0); // the magic bytes are enough to tell PNG and JPEG
      } finally {
        await file.close();
      }
    } catch (error) {
      onSkip?.(path, describeFsError(error));
      continue;
    }
    if (sniffFormat(head)) images.push(path);
    else onSkip?.(path, 'not a PNG or JPEG image');
  }
  return images;
}

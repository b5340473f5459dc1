/**
 * A plain JavaScript array that holds only doubles, the working memory of the hot product loops
 * (the Winograd conv's arena, conv2d-winograd.ts; the 1x1 convs' panel arena, conv2d-core.ts).
 *
 * Why not a Float64Array: V8 reaches a typed array's elements through its data pointer, which it
 * rebuilds (base + external pointer) and sign-extends the index for at every access, and it
 * reloads the array's fields after each loop iteration's interrupt check. A packed array of
 * doubles (V8's PACKED_DOUBLE_ELEMENTS: unboxed float64s, no holes) costs one load of its
 * backing store and a compare per access. The Winograd products' inner loop has 7 loads per 12
 * multiply-adds, so that is most of its instructions: measured on the 270x480 frame's convs,
 * interleaved with the Float64Array arena (9 rounds, medians, two runs), the Winograd convs
 * 0.91-0.98x the time, the 1x1s 0.92-0.96x; the same bits. Only the arenas: the Winograd
 * transforms' small scratch measured no faster so, and the input strip stays a Float64Array for
 * TypedArray.prototype.set's native float32 conversion.
 *
 * The array must stay packed and double: it is only ever made here, written with numbers inside
 * its length, never grown, shrunk or given a hole (one such write would turn its elements
 * generic, and every loop over it slow; test/ops/packed-doubles.test.ts asks V8 what it holds).
 */
export type PackedDoubles = number[];

/**
 * A packed double array of `length` zeros (at least one element). Built by doubling a one-element
 * array of a non-integer (so V8 types it double from the start) with concat, which copies the
 * unboxed doubles natively, then zeroed (zeros written into a double array stay doubles).
 */
export function packedDoubles(length: number): PackedDoubles {
  let array = [0.5];
  while (array.length * 2 <= length) array = array.concat(array);
  if (array.length < length) array = array.concat(array.slice(0, length - array.length));
  return array.fill(0);
}

/** target[at + i] = source[i] for every i: the weights into an arena (a few hundred KB). */
export function copyDoubles(source: Float64Array, target: PackedDoubles, at = 0): void {
  if (at < 0 || at + source.length > target.length) {
    throw new RangeError(`copyDoubles: ${source.length} values at ${at} do not fit an array of ${target.length}`);
  }
  for (let i = 0; i < source.length; i++) target[at + i] = source[i];
}

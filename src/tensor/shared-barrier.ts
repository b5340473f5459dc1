/**
 * A barrier for the members of a gang (gang.ts), over 16 bytes of a SharedArrayBuffer that every
 * member maps: [arrived, generation, aborted, next]. The last member to arrive resets the count
 * and the layer's chunk counter (`next`, claim()) and bumps the generation; the others sleep in
 * Atomics.wait until it changes. Atomics.wait is allowed in workers (Node's and the browser's),
 * not on a browser's main thread, which never joins a gang.
 *
 * A member that fails calls abort(): every member waiting now or later throws instead of waiting
 * forever for it. Waits wake every WAIT_MS to look at the flag too, so an abort is seen even if
 * its notify was missed.
 */
export const BARRIER_BYTES = 16;
const ARRIVED = 0;
const GENERATION = 1;
const ABORTED = 2;
const NEXT = 3;
const WAIT_MS = 200;

/** The message of GangAbortedError, which crosses threads as text (worker replies carry messages). */
export const GANG_ABORTED_MESSAGE = 'another member of the gang failed';

export class GangAbortedError extends Error {
  constructor() {
    super(GANG_ABORTED_MESSAGE);
    this.name = 'GangAbortedError';
  }
}

export class SharedBarrier {
  private readonly cells: Int32Array;

  constructor(buffer: SharedArrayBuffer, readonly size: number, byteOffset = 0) {
    this.cells = new Int32Array(buffer, byteOffset, 4);
  }

  wait(): void {
    const cells = this.cells;
    if (Atomics.load(cells, ABORTED)) throw new GangAbortedError();
    const generation = Atomics.load(cells, GENERATION);
    if (Atomics.add(cells, ARRIVED, 1) === this.size - 1) {
      Atomics.store(cells, ARRIVED, 0);
      Atomics.store(cells, NEXT, 0); // everyone is here: nobody is claiming
      Atomics.add(cells, GENERATION, 1);
      Atomics.notify(cells, GENERATION);
      return;
    }
    while (Atomics.load(cells, GENERATION) === generation) {
      if (Atomics.load(cells, ABORTED)) throw new GangAbortedError();
      Atomics.wait(cells, GENERATION, generation, WAIT_MS);
    }
    if (Atomics.load(cells, ABORTED)) throw new GangAbortedError(); // abort() bumps the generation too
  }

  /** The next number of the chunk counter (see Gang.claim). */
  claim(): number {
    return Atomics.add(this.cells, NEXT, 1);
  }

  abort(): void {
    Atomics.store(this.cells, ABORTED, 1);
    Atomics.add(this.cells, GENERATION, 1);
    Atomics.notify(this.cells, GENERATION);
  }

  get aborted(): boolean {
    return Atomics.load(this.cells, ABORTED) !== 0;
  }
}

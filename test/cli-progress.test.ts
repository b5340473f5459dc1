import { describe, expect, it } from 'vitest';
import { ProgressBar } from '../src/cli/progress.js';

function fakeStream(isTTY: boolean) {
  const written: string[] = [];
  return { stream: { isTTY, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream, written };
}

describe('ProgressBar', () => {
  it('draws percent, tiles and ETA on a terminal', () => {
    const { stream, written } = fakeStream(true);
    const bar = new ProgressBar('photo.png', false, stream);
    bar.update(0.25, { done: 1, total: 4 });
    expect(written[0]).toMatch(/^\rphoto.png \[######------------------\]  25% tile 1\/4 ETA \d+\.\ds/);
    bar.finish();
    expect(written[1]).toMatch(/photo.png done in \d+\.\ds/);
  });

  it('stays silent when quiet or not a terminal', () => {
    for (const [tty, quiet] of [[false, false], [true, true]]) {
      const { stream, written } = fakeStream(tty);
      const bar = new ProgressBar('x', quiet, stream);
      bar.update(0.5);
      bar.finish();
      expect(written).toEqual([]);
    }
  });
});

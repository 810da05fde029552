// One writer per store directory: two processes appending to the same log would interleave
// frames. A LOCK file holds the owner's pid; a lock whose pid is gone (a crashed or killed
// process) is stale and taken over.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { StoreLockedError } from '../errors';

const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DirLock {
  release(): Promise<void>;
}

export async function lockDir(dir: string): Promise<DirLock> {
  const path = join(dir, 'LOCK');
  if (heldHere.has(path)) throw new StoreLockedError(`store ${dir} is already open in this process`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await fsp.open(path, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      heldHere.add(path);
      return {
        release: async () => {
          heldHere.delete(path);
          await fsp.rm(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number.parseInt(await fsp.readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new StoreLockedError(`store ${dir} is in use by process ${pid}`);
      }
      // Stale: its owner is gone (or it was this pid in an earlier life of a reused pid).
      await fsp.rm(path, { force: true });
    }
  }
  throw new StoreLockedError(`could not lock store ${dir}`);
}

import { Stats, statSync } from 'fs';
import { UnusableInputError } from './problem';

/**
 * The stats of a regular file, read before the file is opened: a device never ends (`/dev/zero`) and a FIFO blocks
 * until something writes to it, so either would hang a reader.
 */
export function regularFileStats(file: string): Stats {
  let stats: Stats;
  try {
    stats = statSync(file);
  } catch (error) {
    throw new UnusableInputError(cannotRead(file, error));
  }
  if (!stats.isFile()) throw new UnusableInputError(`${file}: is not a regular file (${fileType(stats)})`);
  return stats;
}

export function cannotRead(path: string, error: unknown): string {
  return `${path}: cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
}

export function fileType(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return stats.isSocket() ? 'a socket' : 'another kind of file';
}

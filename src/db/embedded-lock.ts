import fs from 'node:fs';
import path from 'node:path';

/**
 * The embedded database allows one process at a time. The server records its pid in DATA_DIR;
 * the admin CLI refuses to open the same directory while that process is alive, with a clear
 * message instead of a corrupted or locked database.
 */
const LOCK_FILE = 'shortcode-server.pid';

export class EmbeddedDatabaseInUseError extends Error {}

/** The data directory cannot be written (read-only, no permission, or full): said plainly. */
export class DataDirectoryError extends Error {}

const UNWRITABLE: Record<string, string> = {
  EROFS: 'is on a read-only file system',
  EACCES: 'is not writable by this user',
  EPERM: 'is not writable by this user',
  ENOSPC: 'is on a full disk',
  EDQUOT: 'is over its disk quota',
};

function explain(dataDir: string, err: unknown): never {
  const code = (err as { code?: string }).code ?? '';
  const error = dataDirectoryError(dataDir, code);
  if (!error) throw err;
  throw error;
}

/** The plain error for a data directory that cannot be written, for an errno code we can explain. */
export function dataDirectoryError(dataDir: string, code: string): DataDirectoryError | undefined {
  const why = UNWRITABLE[code];
  if (!why) return undefined;
  return new DataDirectoryError(
    `The data directory ${dataDir} is not writable: it ${why} (${code}). The embedded database needs a writable DATA_DIR; ` +
      'nothing was changed in it. Fix the directory (or point DATA_DIR elsewhere) and start again.',
  );
}

export function lockPath(dataDir: string): string {
  return path.join(dataDir, LOCK_FILE);
}

export function runningServerPid(dataDir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(lockPath(dataDir), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

export function assertEmbeddedDatabaseFree(dataDir: string): void {
  const pid = runningServerPid(dataDir);
  if (pid !== null) {
    throw new EmbeddedDatabaseInUseError(
      `The Shortcode server (pid ${pid}) is running on the embedded database in ${dataDir}. ` +
        'Stop it before using the admin CLI, or run both against PostgreSQL with DATABASE_URL.',
    );
  }
}

export function acquireEmbeddedLock(dataDir: string): () => void {
  assertEmbeddedDatabaseFree(dataDir);
  // Written to a new file, then renamed over the lock: rewriting the lock file a killed server
  // left behind needs no new block and would succeed on a full disk, a new file does not.
  const fresh = `${lockPath(dataDir)}.${process.pid}`;
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(fresh, String(process.pid));
    fs.renameSync(fresh, lockPath(dataDir));
  } catch (err) {
    // A full disk lets the file be created but not written: leave no empty file behind.
    try {
      fs.rmSync(fresh, { force: true });
    } catch {
      // read-only: nothing was created
    }
    explain(dataDir, err);
  }
  return () => {
    try {
      if (fs.readFileSync(lockPath(dataDir), 'utf8').trim() === String(process.pid)) fs.unlinkSync(lockPath(dataDir));
    } catch {
      // already gone
    }
  };
}

import fs from 'node:fs';
import path from 'node:path';

/**
 * The embedded database allows one process at a time. The server records its pid in DATA_DIR;
 * the admin CLI refuses to open the same directory while that process is alive, with a clear
 * message instead of a corrupted or locked database.
 */
const LOCK_FILE = 'shortcode-server.pid';

export class EmbeddedDatabaseInUseError extends Error {}

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
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(lockPath(dataDir), String(process.pid));
  return () => {
    try {
      if (fs.readFileSync(lockPath(dataDir), 'utf8').trim() === String(process.pid)) fs.unlinkSync(lockPath(dataDir));
    } catch {
      // already gone
    }
  };
}

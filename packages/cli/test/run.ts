/** Runs the `shortcode` binary as a subprocess, as a user would, with its own config directory. */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/shortcode.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A fresh XDG_CONFIG_HOME, so tests never touch the user's login. */
export function tempConfigHome(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'shortcode-cli-'));
}

/**
 * Runs `shortcode ...args` (asynchronously: the test's server runs in this process). Only the
 * variables given (plus PATH and HOME) reach the CLI, so the developer's SHORTCODE_* do not.
 */
export function run(args: string[], env: Record<string, string>, input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: env.HOME ?? os.tmpdir(), ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/**
 * Runs `shortcode ...args` on a pseudo-terminal (util-linux `script`), as on a user's terminal:
 * standard output and error arrive together, as the terminal shows them.
 */
export function runInTerminal(args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  return new Promise((resolve) => {
    execFile('script', ['-qec', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '', HOME: env.HOME ?? os.tmpdir(), TERM: 'dumb', ...env }, timeout: 60_000 }, (error, stdout) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: String(stdout) });
    });
  });
}

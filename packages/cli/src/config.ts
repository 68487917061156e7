import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** What `shortcode login` stores. */
export interface StoredLogin {
  token?: string;
  baseUrl?: string;
}

/** `$XDG_CONFIG_HOME/shortcode/config.json`, else `~/.config/shortcode/config.json`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(os.homedir(), '.config');
  return path.join(base, 'shortcode', 'config.json');
}

export async function readLogin(env: NodeJS.ProcessEnv = process.env): Promise<StoredLogin> {
  const file = configPath(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as StoredLogin;
    return { token: typeof parsed.token === 'string' ? parsed.token : undefined, baseUrl: typeof parsed.baseUrl === 'string' ? parsed.baseUrl : undefined };
  } catch {
    throw new Error(`${file} is not valid JSON: fix it or run \`shortcode login\` again.`);
  }
}

/** Writes the login readable by the user only (directory 0700, file 0600). */
export async function writeLogin(login: StoredLogin, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = configPath(env);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

export async function removeLogin(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const file = configPath(env);
  try {
    await rm(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

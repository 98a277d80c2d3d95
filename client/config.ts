/**
 * Where the CLI finds the API, its token and its state directory.
 *
 * API URL, first found wins: `--api`; env MPU_API_URL; the endpoints file named by env
 * MPU_ENDPOINTS_FILE; `.local/endpoints.json` in the working directory or a parent (written by
 * `npm run local`); `api_url` in the config file. Explicit settings beat discovered files.
 * Token: `--token`; env MPU_TOKEN; `token` in the endpoints file; `token` in the config file.
 * Config file: env MPU_CONFIG, else $XDG_CONFIG_HOME/mpu/config.json (~/.config/mpu/config.json).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.js';

export interface ResolvedApi {
  apiUrl: string;
  token?: string;
  /** Where the URL came from, for --verbose. */
  source: string;
}

interface FileSettings {
  api_url?: string;
  token?: string;
}

export type Env = Record<string, string | undefined>;

export function configFilePath(env: Env = process.env): string {
  if (env.MPU_CONFIG) return env.MPU_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'mpu', 'config.json');
}

/** User state directory: env MPU_STATE_DIR, else $XDG_STATE_HOME/mpu (~/.local/state/mpu). */
export function stateDirPath(env: Env = process.env): string {
  if (env.MPU_STATE_DIR) return env.MPU_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'mpu');
}

/** `.local/endpoints.json` in `dir` or the nearest parent that has one. */
export function findEndpointsFile(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const f = join(d, '.local', 'endpoints.json');
    if (existsSync(f)) return f;
    if (dirname(d) === d) return undefined;
  }
}

function readSettings(file: string, what: string): FileSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null) throw new UsageError(`${what} ${file} is not a JSON object`);
  const o = raw as Record<string, unknown>;
  return {
    ...(typeof o.api_url === 'string' ? { api_url: o.api_url } : {}),
    ...(typeof o.token === 'string' ? { token: o.token } : {}),
  };
}

export function resolveApi(flags: { api?: string; token?: string }, env: Env = process.env, cwd = process.cwd()): ResolvedApi {
  const config = existsSync(configFilePath(env)) ? readSettings(configFilePath(env), 'config file') : {};
  const endpointsFile = env.MPU_ENDPOINTS_FILE || findEndpointsFile(cwd);
  const endpoints = endpointsFile && existsSync(endpointsFile) ? readSettings(endpointsFile, 'endpoints file') : {};
  const token = flags.token ?? (env.MPU_TOKEN || undefined) ?? endpoints.token ?? config.token;
  const pick = (apiUrl: string | undefined, source: string): ResolvedApi | undefined =>
    apiUrl ? { apiUrl: checkUrl(apiUrl, source), ...(token ? { token } : {}), source } : undefined;
  const found =
    pick(flags.api, '--api') ??
    pick(env.MPU_API_URL, 'MPU_API_URL') ??
    pick(endpoints.api_url, endpointsFile ?? '') ??
    pick(config.api_url, configFilePath(env));
  if (!found) {
    throw new UsageError('no API URL: pass --api URL, set MPU_API_URL, or start the local cloud (npm run local)');
  }
  return found;
}

function checkUrl(url: string, source: string): string {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new UsageError(`invalid API URL "${url}" (from ${source})`);
  }
  return url;
}

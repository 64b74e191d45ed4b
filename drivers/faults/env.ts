import type { z } from 'zod';
import { GamedayError } from '../../core/errors.js';
import { awsFaultOptionsSchema, type AwsFaultOptionsInput } from './aws.js';
import type { FleetFaultOptions } from './fleet.js';
import { sshFaultOptionsSchema, type SshFaultOptionsInput } from './ssh.js';

/**
 * The fleet fault driver's options from environment variables (the CLI
 * reads no flags for them, as for the power drivers: ssh itself reads
 * ssh_config, the agent and known_hosts; the AWS SDK reads AWS_PROFILE,
 * AWS_REGION and its credential chain). Every variable is optional:
 *
 * - GAMEDAY_SSH_USER, GAMEDAY_SSH_PORT, GAMEDAY_SSH_IDENTITY_FILE,
 *   GAMEDAY_SSH_KNOWN_HOSTS, GAMEDAY_SSH_CONFIG,
 *   GAMEDAY_SSH_HOST_KEY_CHECKING (strict | accept-new | off)
 * - GAMEDAY_FAULT_SUDO (1/true/yes or 0/false/no)
 * - GAMEDAY_FAULT_UNITS ("service=unit,service=unit"; "service=" for none)
 * - GAMEDAY_FAULT_APP_UNIT, GAMEDAY_FAULT_PROXY_UNIT
 * - GAMEDAY_FAULT_REDIS_DATA (paths, ":"-separated)
 * - GAMEDAY_FAULT_MARIADB (the client argv, blank-separated)
 * - GAMEDAY_FAULT_SSH_ALLOW_FROM (addresses or networks, ","-separated)
 * - GAMEDAY_AWS_REGION (for hosts whose zone is not an AWS zone name)
 * - GAMEDAY_FIS_TEMPLATES (JSON: {"<fault label>": "EXT…"})
 *
 * A bad value is a GamedayError naming the variable, before anything runs.
 */

function bad(variable: string, value: string, why: string, hint?: string): GamedayError {
  return new GamedayError('FAULT_ENV', `${JSON.stringify(value)} ${why}`, `environment variable ${variable}`, hint);
}

const list = (v: string, sep: string) =>
  v
    .split(sep)
    .map((s) => s.trim())
    .filter(Boolean);

function bool(variable: string, v: string): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off|)$/i.test(v)) return false;
  throw bad(variable, v, 'is not a yes or a no', 'use 1 or 0');
}

function int(variable: string, v: string): number {
  if (!/^\d+$/.test(v)) throw bad(variable, v, 'is not a number');
  return Number(v);
}

function units(variable: string, v: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of list(v, ',')) {
    const i = pair.indexOf('=');
    if (i <= 0) throw bad(variable, pair, 'is not service=unit', 'e.g. GAMEDAY_FAULT_UNITS="mysql=mysql,http=notification-center,db-health="');
    out[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  return out;
}

/** zod issues of a section, reported against the variables that feed it. */
function validated<T>(schema: z.ZodType, value: T, variables: Record<string, string>, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return value;
  const issue = r.error!.issues[0]!;
  const key = issue.path.filter((p) => typeof p === 'string').join('.');
  const variable = Object.entries(variables).find(([field]) => key === field || key.startsWith(`${field}.`))?.[1] ?? what;
  throw new GamedayError('FAULT_ENV', `${key || 'value'}: ${issue.message}`, `environment variable ${variable}`, 'see docs/game-days.md, "Real fleets"');
}

export function faultOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): FleetFaultOptions {
  const get = (k: string): string | undefined => {
    const v = env[k];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const ssh: Record<string, unknown> = {};
  const fault: Record<string, unknown> = {};
  const aws: Record<string, unknown> = {};
  let v: string | undefined;
  if ((v = get('GAMEDAY_SSH_USER'))) ssh.user = v;
  if ((v = get('GAMEDAY_SSH_PORT'))) ssh.port = int('GAMEDAY_SSH_PORT', v);
  if ((v = get('GAMEDAY_SSH_IDENTITY_FILE'))) ssh.identityFile = v;
  if ((v = get('GAMEDAY_SSH_KNOWN_HOSTS'))) ssh.knownHostsFile = v;
  if ((v = get('GAMEDAY_SSH_CONFIG'))) ssh.configFile = v;
  if ((v = get('GAMEDAY_SSH_HOST_KEY_CHECKING'))) ssh.hostKeyChecking = v;
  if ((v = get('GAMEDAY_FAULT_SUDO'))) fault.sudo = bool('GAMEDAY_FAULT_SUDO', v);
  if ((v = get('GAMEDAY_FAULT_UNITS'))) fault.units = units('GAMEDAY_FAULT_UNITS', v);
  if ((v = get('GAMEDAY_FAULT_APP_UNIT'))) fault.appUnit = v;
  if ((v = get('GAMEDAY_FAULT_PROXY_UNIT'))) fault.proxyUnit = v;
  if ((v = get('GAMEDAY_FAULT_REDIS_DATA'))) fault.redisDataPaths = list(v, ':');
  if ((v = get('GAMEDAY_FAULT_MARIADB'))) fault.mariadbCommand = list(v, ' ');
  if ((v = get('GAMEDAY_FAULT_SSH_ALLOW_FROM'))) fault.allowSshFrom = list(v, ',');
  if ((v = get('GAMEDAY_AWS_REGION'))) aws.region = v;
  if ((v = get('GAMEDAY_FIS_TEMPLATES'))) {
    try {
      aws.fisTemplates = JSON.parse(v) as unknown;
    } catch (err) {
      throw bad('GAMEDAY_FIS_TEMPLATES', v.slice(0, 80), `is not JSON: ${(err as Error).message}`, 'e.g. GAMEDAY_FIS_TEMPLATES=\'{"zone eu-west-1a": "EXT1a2b3c4d5e6f7"}\' (the label as `gameday chaos plan` prints it)');
    }
  }
  const sshOptions = validated(
    sshFaultOptionsSchema,
    { ssh, ...fault } as SshFaultOptionsInput,
    {
      'ssh.user': 'GAMEDAY_SSH_USER',
      'ssh.port': 'GAMEDAY_SSH_PORT',
      'ssh.identityFile': 'GAMEDAY_SSH_IDENTITY_FILE',
      'ssh.knownHostsFile': 'GAMEDAY_SSH_KNOWN_HOSTS',
      'ssh.configFile': 'GAMEDAY_SSH_CONFIG',
      'ssh.hostKeyChecking': 'GAMEDAY_SSH_HOST_KEY_CHECKING',
      units: 'GAMEDAY_FAULT_UNITS',
      appUnit: 'GAMEDAY_FAULT_APP_UNIT',
      proxyUnit: 'GAMEDAY_FAULT_PROXY_UNIT',
      redisDataPaths: 'GAMEDAY_FAULT_REDIS_DATA',
      mariadbCommand: 'GAMEDAY_FAULT_MARIADB',
      allowSshFrom: 'GAMEDAY_FAULT_SSH_ALLOW_FROM',
    },
    'GAMEDAY_SSH_* / GAMEDAY_FAULT_*',
  );
  const awsOptions = validated(awsFaultOptionsSchema, aws as AwsFaultOptionsInput, { region: 'GAMEDAY_AWS_REGION', fisTemplates: 'GAMEDAY_FIS_TEMPLATES' }, 'GAMEDAY_AWS_*');
  return { ssh: sshOptions, aws: awsOptions };
}

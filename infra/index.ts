/**
 * The Pulumi program (Pulumi.yaml: main infra/). Reads the `gameday:*` configuration, validates it
 * (one clear error per bad value) and builds the stack. Its exports are the stack outputs.
 */
import * as pulumi from '@pulumi/pulumi';
import { GamedayError } from '../core/errors.js';
import { CONFIG_NAMESPACE, parseStackConfig } from './config.js';
import { GamedayStack } from './stack.js';

/** The `gameday:*` keys of the stack's configuration, without the namespace. */
export function rawStackConfig(): Record<string, string> {
  const prefix = `${CONFIG_NAMESPACE}:`;
  return Object.fromEntries(
    Object.entries(pulumi.runtime.allConfig())
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
}

const stack = pulumi.getStack();
let config;
try {
  config = parseStackConfig(rawStackConfig(), `Pulumi.${stack}.yaml`);
} catch (err) {
  // Shown by the Pulumi CLI as one message, without a stack trace.
  if (err instanceof GamedayError) throw new pulumi.RunError(err.describe());
  throw err;
}
const gameday = new GamedayStack('gameday', stack, config);

export const inventory = gameday.outputs.inventory;
export const albDnsName = gameday.outputs.albDnsName;
export const vpcId = gameday.outputs.vpcId;
export const placementGroups = gameday.outputs.placementGroups;
export const rackExperiments = gameday.outputs.rackExperiments;
export const zoneExperiments = gameday.outputs.zoneExperiments;
export const rebootSchedule = gameday.outputs.rebootSchedule;

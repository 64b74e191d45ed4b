/** Configuration helpers for the infra tests; no Pulumi imported here, so pure tests stay fast. */
import { parseStackConfig, type StackConfig } from '../../../infra/config.js';

export const TEST_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/gameday:test';

/** A valid configuration: the defaults, the one required key, and the given raw values. */
export function configWith(raw: Record<string, unknown> = {}): StackConfig {
  return parseStackConfig({ rebootImage: TEST_IMAGE, ...raw }, 'test');
}

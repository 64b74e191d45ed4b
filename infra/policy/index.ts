/**
 * gameday's policy pack: `pulumi preview --policy-pack infra/policy` (see infra/README.md).
 * Loaded by index.cjs, since the Pulumi CLI loads packs with require().
 */
import { PolicyPack } from '@pulumi/policy';
import { policies } from './policies.js';

new PolicyPack('gameday', { policies });

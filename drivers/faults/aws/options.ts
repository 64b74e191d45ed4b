import { z } from 'zod';

export const awsFaultOptionsSchema = z
  .object({
    /** Region for hosts whose zone is not an AWS zone name (else the SDK's: AWS_REGION, the profile). */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region, e.g. "eu-west-1"')
      .optional(),
    /** Fault label ("zone eu-west-1a", "rack web-pg-1") → FIS experiment template id (EXT…). */
    fisTemplates: z.record(z.string().min(1), z.string().regex(/^EXT[A-Za-z0-9]{1,64}$/, 'must be a FIS experiment template id, e.g. EXTabc123')).default({}),
    /** Pause between two Describe/Get calls while waiting. */
    pollIntervalMs: z.number().int().min(1).default(5_000),
    /** How long the undo waits for the instances to run again. */
    startTimeoutMs: z.number().int().min(1).default(600_000),
    /** How long a FIS experiment may take to reach running (inject) or stopped (undo). */
    fisTimeoutMs: z.number().int().min(1).default(180_000),
  })
  .strict();

export type AwsFaultOptionsInput = z.input<typeof awsFaultOptionsSchema>;
export type AwsFaultOptions = z.output<typeof awsFaultOptionsSchema>;

import type { EC2ClientConfig } from '@aws-sdk/client-ec2';
import { GamedayError } from '../../core/errors.js';
import { awsApiError } from './awsErrors.js';

/**
 * What the SDK clients get besides the region (tests pass fake credentials here).
 * It lives here, with the clients made from it, so that this module imports none of the drivers that use it.
 */
export type AwsClientConfig = Pick<EC2ClientConfig, 'credentials' | 'endpoint' | 'maxAttempts'>;

/**
 * SDK clients made once per region (undefined: the SDK's own default region)
 * from one client config, after the SDK itself has loaded on first use: the
 * AWS drivers share this, each with the clients it needs.
 */
export class RegionalClients<Sdk, C> {
  private readonly byRegion = new Map<string, C>();

  constructor(
    private readonly loadSdk: () => Promise<Sdk>,
    private readonly make: (sdk: Sdk, config: AwsClientConfig & { region?: string }) => C,
    private readonly config: AwsClientConfig = {},
  ) {}

  async for(region: string | undefined): Promise<C> {
    const key = region ?? '(sdk default)';
    const known = this.byRegion.get(key);
    if (known) return known;
    const made = this.make(await this.loadSdk(), { ...this.config, ...(region ? { region } : {}) });
    this.byRegion.set(key, made);
    return made;
  }
}

/** One AWS call: a failure becomes one GamedayError naming the call, what it was about and the AWS error. */
export async function awsCall<T>(what: string, subject: string, input: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof GamedayError) throw err;
    throw awsApiError(what, subject, input, err);
  }
}

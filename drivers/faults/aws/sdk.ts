import type { EC2Client } from '@aws-sdk/client-ec2';
import type { FisClient } from '@aws-sdk/client-fis';
import { awsCall, type AwsClientConfig } from '../../power/regionalClients.js';

export type FaultSdk = { ec2: typeof import('@aws-sdk/client-ec2'); fis: typeof import('@aws-sdk/client-fis') };

export interface Clients {
  ec2: EC2Client;
  fis: FisClient;
}

// One copy for the process, shared by every aws fault driver.
let sdk: FaultSdk | undefined;

/** The SDK loads when a fault acts, not when the CLI starts (EC2's client alone costs about half a second). */
export async function loadSdk(): Promise<FaultSdk> {
  if (!sdk) {
    const [ec2, fis] = await Promise.all([import('@aws-sdk/client-ec2'), import('@aws-sdk/client-fis')]);
    sdk = { ec2, fis };
  }
  return sdk;
}

/** The clients of each region (undefined: the SDK's default), made once from one config; only after loadSdk. */
export function clientsByRegion(clientConfig: AwsClientConfig): (region: string | undefined) => Clients {
  const clients = new Map<string, Clients>();
  return (region) => {
    if (!sdk) throw new Error('bug: an AWS client was asked for before the SDK was loaded (loadSdk)');
    const key = region ?? '(sdk default)';
    let c = clients.get(key);
    if (!c) {
      const config = { ...clientConfig, ...(region ? { region } : {}) };
      c = { ec2: new sdk.ec2.EC2Client(config), fis: new sdk.fis.FisClient(config) };
      clients.set(key, c);
    }
    return c;
  };
}

/** One AWS call, the SDK loaded first: a failure becomes one GamedayError naming the call, its subject and the AWS error. */
export async function call<T>(what: string, subject: string, input: string, fn: (sdk: FaultSdk) => Promise<T>): Promise<T> {
  const loaded = await loadSdk();
  return awsCall(what, subject, input, () => fn(loaded));
}

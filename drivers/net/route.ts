import { execa } from '../exec.js';

/** True when the machine sends packets for `address` into one of the labs' bridges (gd<octet>br), and so to nothing outside them. */
export async function routesIntoLab(address: string): Promise<boolean> {
  const r = await execa('ip', ['-j', 'route', 'get', address], { reject: false, timeout: 5000 });
  if (r.exitCode !== 0) return false;
  const routes = JSON.parse(r.stdout) as Array<{ dev?: string }>;
  return routes.length > 0 && routes.every((x) => /^gd\d+br$/.test(x.dev ?? ''));
}

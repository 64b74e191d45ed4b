import { acceptsTcp } from '../drivers/net/tcp.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Host } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import type { PowerDriver } from '../drivers/power/types.js';
import { requireLab } from './context.js';
import { powerOff, rebootHost } from './power.js';
import { hostBootedAt } from './supervisor.js';

/**
 * The lab's power driver: a lab host's uptime is the age of its processes;
 * a reboot is a clean restart of them (unlike power-off). It lives in lab/
 * because it acts on the lab's processes; drivers/ may not import lab/.
 */
export function labPowerDriver(labDir: string): PowerDriver {
  // Read the state afresh each time: other commands change it.
  const lab = () => requireLab(labDir);
  const bootTime = (host: Host): number | undefined => hostBootedAt(lab(), host.name);
  return {
    kind: 'lab',
    async uptimeSeconds(host) {
      const boot = bootTime(host);
      if (boot === undefined) throw new GamedayError('HOST_DOWN', `${host.name} has no running process`, host.name, 'power it on: gameday lab power-on');
      return (Date.now() - boot) / 1000;
    },
    async reboot(host) {
      await rebootHost(lab(), host.name);
    },
    async powerState(host) {
      // Off only when the lab powered it off and none of its processes runs.
      const l = lab();
      return l.state.poweredOff.includes(host.name) && bootTime(host) === undefined ? 'off' : 'on';
    },
    async powerOff(host) {
      await powerOff(lab(), host.name);
    },
    async waitUntilBack(host, since, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const boot = bootTime(host);
        if (boot !== undefined && boot >= since.getTime()) {
          const ports = Object.values(host.services);
          if ((await Promise.all(ports.map((p) => acceptsTcp(host.address, p, 1000)))).every(Boolean)) return;
        }
        await sleep(250);
      }
      throw new GamedayError('HOST_NOT_BACK', `${host.name} did not come back within ${timeoutMs / 1000} s`, host.name, 'see "gameday lab status" and its logs');
    },
  };
}

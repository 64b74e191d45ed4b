import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUpOptions } from '../../../cli/labUp.js';
import { GamedayError } from '../../../core/errors.js';
import { newLab, openLab } from '../../../lab/context.js';
import { processSpecsOf } from '../../../lab/processes.js';
import { labUpPhases } from '../../../lab/up.js';
import { SshPowerDriver } from '../../../drivers/power/ssh.js';
import { machineUptimeSeconds } from '../../../lab/sshd.js';
import { parseSystemctl } from '../../../lab/unitNames.js';
import { labSshFaultDriver } from '../../../lab/sshFaults.js';
import { resolveFaults } from '../../../chaos/faults/resolve.js';

describe('a lab powered over ssh (lab up --power ssh)', () => {
  it('passes --power on and refuses an unknown kind naming the flag', () => {
    expect(labUpOptions({ dir: '/tmp/x', power: 'ssh' }).power).toBe('ssh');
    expect(labUpOptions({ dir: '/tmp/x' }).power).toBeUndefined();
    let err: unknown;
    try {
      labUpOptions({ dir: '/tmp/x', power: 'ipmi' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GamedayError);
    expect((err as GamedayError).input).toBe('--power');
  });

  it('says power: ssh in its inventory, with options the ssh driver accepts, and keeps its power for its life', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gameday-ssh-lab-')), 'lab');
    newLab(dir, 60, undefined, undefined, { power: 'ssh' }).save();
    const lab = openLab(dir)!;
    expect(lab.state.power).toBe('ssh');
    expect(lab.inventory.hosts.every((h) => h.power === 'ssh')).toBe(true);
    const driver = new SshPowerDriver(lab.inventory.drivers!.ssh);
    expect(driver.options.identityFile).toBe(join(dir, 'ssh', 'id_ed25519'));
    expect(driver.rebootCommandLine()).toBe(`'${join(dir, 'ssh', 'reboot')}'`);
    // Its power is its own for its life: lab up with another is refused before anything is touched.
    return labUpPhases({ dir, power: 'lab' }).phases[0].run().then(
      () => expect.unreachable('lab up --power lab on a --power ssh lab'),
      (e: GamedayError) => {
        expect(e.code).toBe('LAB_EXISTS');
        expect(e.message).toContain('--power ssh, not lab');
        expect(openLab(dir)!.state.power).toBe('ssh');
        // A lab made before --power existed is the lab's own, with no drivers section.
        const old = newLab(join(dir, '..', 'old'), 61);
        expect(old.state.power).toBe('lab');
        expect(old.inventory.drivers).toBeUndefined();
      },
    );
  });

  it("starts an sshd on every host first, in a time namespace whose boot clock reads the host's age", () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gameday-ssh-lab-')), 'lab');
    const lab = newLab(dir, 62, undefined, undefined, { power: 'ssh' });
    for (const host of lab.inventory.hosts) {
      const [first] = processSpecsOf(lab, host);
      expect(first.id).toBe(`${host.name}/sshd`);
      expect(first.command).toBe('unshare');
      const offset = Number(first.args[first.args.indexOf('--boottime') + 1]);
      // Booting now: the offset takes the machine's uptime away, to the second, so the host's uptime starts near 0.
      expect(machineUptimeSeconds() + offset).toBeGreaterThanOrEqual(0);
      expect(machineUptimeSeconds() + offset).toBeLessThan(2);
      expect(first.args).toContain('--mount');
      const afterMask = first.args.slice(first.args.indexOf('sh', first.args.indexOf('-c') + 2));
      expect(afterMask).toEqual(['sh', '/usr/sbin/sshd', '-D', '-e', '-f', join(dir, 'ssh', `${host.name}.sshd_config`)]);
      // The machine's MariaDB and Redis sockets and data, and systemd, are hidden from the host's sessions.
      const mask = first.args[first.args.indexOf('-c') + 1];
      for (const d of ['/run/mysqld', '/run/systemd', '/var/lib/redis']) expect(mask).toContain(d);
    }
    const plain = newLab(join(dir, '..', 'plain'), 63);
    expect(processSpecsOf(plain, plain.host('db-1')).map((s) => s.id)).not.toContain('db-1/sshd');
  });

  it("reads the systemctl lines the ssh fault driver sends, and nothing else", () => {
    expect(parseSystemctl(['kill', '-s', 'KILL', '--', 'mariadb'])).toEqual({ verb: 'KILL', unit: 'mariadb' });
    expect(parseSystemctl(['kill', '-s', 'STOP', '--', 'redis-server.service'])).toEqual({ verb: 'STOP', unit: 'redis-server' });
    expect(parseSystemctl(['start', '--', 'haproxy'])).toEqual({ verb: 'start', unit: 'haproxy' });
    expect(parseSystemctl(['kill', '-s', 'HUP', '--', 'mariadb'])).toMatch(/kill needs/);
    expect(parseSystemctl(['restart', 'mariadb'])).toMatch(/knows kill/);
    expect(parseSystemctl(['stop', 'a', 'b'])).toMatch(/one unit/);
  });

  it('takes its faults over ssh, but refuses redis-data-loss: its files are deleted by path, on a filesystem the machine shares', () => {
    const lab = newLab(join(mkdtempSync(join(tmpdir(), 'gameday-ssh-lab-')), 'lab'), 64, undefined, undefined, { power: 'ssh' });
    const driver = labSshFaultDriver(lab);
    expect(driver.kind).toBe('ssh');
    expect(driver.supports).not.toContain('redis-data-loss');
    const [power, wipe] = resolveFaults(lab.inventory, [
      { type: 'power-off', target: { rack: 'a1' }, at: 0, id: 'cut' },
      { type: 'redis-data-loss', at: 0, id: 'wipe' },
    ]);
    expect(() => driver.check([power])).not.toThrow();
    let err: unknown;
    try {
      driver.check([wipe]);
    } catch (e) {
      err = e;
    }
    expect((err as GamedayError).code).toBe('FAULT_UNSUPPORTED');
    expect((err as GamedayError).message).toContain("shares the machine's filesystem");
  });
});

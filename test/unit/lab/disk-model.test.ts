import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUpOptions, diskHelp } from '../../../cli/labUp.js';
import { GamedayError } from '../../../core/errors.js';
import { newLab, openLab } from '../../../lab/context.js';
import { DEFAULT_DISK_MODEL, DISK_MODELS } from '../../../lab/diskModels.js';
import { mariadbPaths } from '../../../lab/configs/mariadb.js';
import { inHostNamespace } from '../../../lab/network.js';

describe('the lab disk model', () => {
  it('passes a known --disk on, leaves it unset without the flag, and refuses an unknown one naming the flag and the models', () => {
    expect(labUpOptions({ dir: '/tmp/x', disk: 'ssd' }).disk).toBe('ssd');
    expect(labUpOptions({ dir: '/tmp/x' }).disk).toBeUndefined();
    let err: unknown;
    try {
      labUpOptions({ dir: '/tmp/x', disk: 'floppy' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GamedayError);
    expect((err as GamedayError).input).toBe('--disk');
    expect((err as GamedayError).message).toBe('unknown disk model "floppy"; valid models: hdd, ssd, none');
  });

  it('help names each model, its read rate and the default', () => {
    const help = diskHelp();
    expect(help).toContain(`hdd          ${DISK_MODELS.hdd.about}${DEFAULT_DISK_MODEL === 'hdd' ? ' (default)' : ''}`);
    expect(help).toContain('3,000 reads/s');
  });

  it('keeps the model for the lab\'s life; a lab made before the model existed has none, and its datadir stays where it was', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gameday-disk-'));
    newLab(dir, 30, undefined, undefined, { disk: 'hdd' }).save();
    const lab = openLab(dir)!;
    expect(lab.state.disk).toBe('hdd');
    expect(mariadbPaths(lab, lab.host('db-2')).datadir).toBe(join(dir, 'hosts', 'db-2', 'disk', 'data'));
    const old = newLab(mkdtempSync(join(tmpdir(), 'gameday-disk-')), 30);
    expect(old.state.disk).toBe('none');
    expect(mariadbPaths(old, old.host('db-2')).datadir).toBe(join(old.dir, 'hosts', 'db-2', 'data'));
  });

  it('a process that joins a cgroup does so as root before it drops to its account, and execs so its PID is its own', () => {
    const run = inHostNamespace('gameday-30-db-2', 'mariadbd', ['--defaults-file=/x/my.cnf'], { uid: 100, gid: 101 }, '/sys/fs/cgroup/blkio/gameday-30/db-2');
    expect(run.command).toBe('nsenter');
    expect(run.args).toEqual([
      '--net=/run/netns/gameday-30-db-2', '--',
      'sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', '/sys/fs/cgroup/blkio/gameday-30/db-2',
      'setpriv', '--reuid=100', '--regid=101', '--clear-groups', '--', 'mariadbd', '--defaults-file=/x/my.cnf',
    ]);
  });
});

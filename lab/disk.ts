import { existsSync, mkdirSync, readFileSync, realpathSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from '../drivers/exec.js';
import { GamedayError } from '../core/errors.js';
import type { LabContext } from './context.js';
import type { Host } from '../topology/index.js';
import { chownTree } from './serviceAccounts.js';
import { DISK_MODELS } from './diskModels.js';

/**
 * The lab's disk model: each db host's datadir on a block device of its own
 * (an ext4 file system in a sparse file, through a loop device), and the
 * host's mariadbd in a blkio cgroup that limits its reads from that device
 * to so many per second. InnoDB reads with O_DIRECT (lab my.cnf), so a page
 * not in the buffer pool is a read of the device, counted against the limit
 * (the loop device's own reads of its image may hit the machine's cache: the
 * model is a rate, not a seek time). A cold pool that must read more than the
 * rate allows is slow, as on a fleet's disk.
 * Writes are not limited (cgroup v1 cannot limit buffered writeback fairly).
 * The models themselves are in lab/diskModels.ts.
 */

/** The size of each db host's disk (sparse: it takes what is written). */
const DISK_SIZE = '4G';
const BLKIO_ROOT = '/sys/fs/cgroup/blkio';

export function diskPaths(lab: LabContext, host: Pick<Host, 'name'>) {
  const dir = lab.hostDir(host.name);
  return { image: join(dir, 'disk.img'), mount: join(dir, 'disk'), cgroup: join(BLKIO_ROOT, `gameday-${lab.state.octet}`, host.name) };
}

/** Whether a file system is mounted at this folder (compared as the kernel writes it: absolute, links resolved). */
function mountedAt(path: string): boolean {
  if (!existsSync(path)) return false;
  const real = realpathSync(path);
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === real);
}

/** The loop devices backed by this image (normally one). */
async function loopsOf(image: string): Promise<string[]> {
  if (!existsSync(image)) return [];
  const out = (await execa('losetup', ['--associated', image, '--noheadings', '--output', 'NAME'], { reject: false, timeout: 5000 })).stdout;
  return out.split('\n').map((s) => s.trim()).filter(Boolean);
}

/** The device under a mount point (e.g. /dev/loop3). */
async function deviceAt(mount: string): Promise<string> {
  return (await execa('findmnt', ['--noheadings', '--output', 'SOURCE', '--mountpoint', mount], { timeout: 5000 })).stdout.trim();
}

/** "7:3" for /dev/loop3: how the blkio cgroup names a device. */
async function majorMinor(device: string): Promise<string> {
  return (await execa('lsblk', ['--nodeps', '--noheadings', '--output', 'MAJ:MIN', device], { timeout: 5000 })).stdout.trim();
}

/**
 * Makes (first time) and mounts a db host's disk, and its cgroup's read
 * limit; idempotent, so a power-on or a `lab up` after a machine restart
 * finds it as the host left it. Returns the cgroup its mariadbd joins, or
 * undefined when the lab has no disk model.
 */
export async function attachDisk(lab: LabContext, host: Host): Promise<string | undefined> {
  const model = DISK_MODELS[lab.state.disk];
  if (model.readIops === undefined) return undefined;
  const p = diskPaths(lab, host);
  if (!mountedAt(p.mount)) {
    if (!existsSync(BLKIO_ROOT)) {
      throw new GamedayError('LAB_NO_BLKIO', `the disk model needs the cgroup v1 blkio controller at ${BLKIO_ROOT}`, '--disk', 'run "gameday lab up --disk none" on this machine');
    }
    if (!existsSync(p.image)) {
      await execa('truncate', ['--size', DISK_SIZE, p.image], { timeout: 5000 });
      await execa('mkfs.ext4', ['-q', '-F', '-E', 'nodiscard', '-m', '0', p.image], { timeout: 60_000 });
    }
    mkdirSync(p.mount, { recursive: true });
    for (const loop of await loopsOf(p.image)) await execa('losetup', ['--detach', loop], { timeout: 5000 }); // a crash's leftover
    await execa('mount', ['-o', 'loop,noatime', p.image, p.mount], { timeout: 30_000 });
    const account = lab.state.serviceAccounts.mariadb;
    if (account) chownTree(p.mount, account);
  }
  mkdirSync(p.cgroup, { recursive: true });
  // A new lab's disks run unlimited until its data set is in place (the seed stands for data a fleet already has).
  await setReadLimit(lab, host, lab.state.seeded ? model.readIops : 0);
  return p.cgroup;
}

/** Sets a db host's read limit (0: none). */
async function setReadLimit(lab: LabContext, host: Pick<Host, 'name'>, iops: number): Promise<void> {
  const p = diskPaths(lab, host);
  writeFileSync(join(p.cgroup, 'blkio.throttle.read_iops_device'), `${await majorMinor(await deviceAt(p.mount))} ${iops}\n`);
}

/** Once a new lab is seeded: every db host's disk at its model's speed from now on. */
export async function limitDisks(lab: LabContext): Promise<void> {
  const iops = DISK_MODELS[lab.state.disk].readIops;
  if (iops === undefined) return;
  for (const h of lab.hostsOf('db')) await setReadLimit(lab, h, iops);
}

/** Unmounts a db host's disk and removes its cgroup (its mariadbd stopped first); what is gone is skipped. */
export async function detachDisk(lab: LabContext, host: Pick<Host, 'name'>): Promise<void> {
  const p = diskPaths(lab, host);
  if (mountedAt(p.mount)) await execa('umount', [p.mount], { timeout: 30_000 });
  // The folder is removed next: never while a file system is still mounted in it.
  if (mountedAt(p.mount)) throw new Error(`${p.mount} is still mounted after umount`);
  for (const loop of await loopsOf(p.image)) await execa('losetup', ['--detach', loop], { timeout: 5000 });
  if (existsSync(p.cgroup)) rmdirSync(p.cgroup);
  // The lab's own cgroup folder goes with its last host (rmdir refuses while another host's is in it).
  try {
    rmdirSync(join(p.cgroup, '..'));
  } catch {
    /* another db host's cgroup is still there, or it is gone */
  }
}

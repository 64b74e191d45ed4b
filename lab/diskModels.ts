/** The lab's disk models (lab/disk.ts builds them), apart so the lab's state can name them without importing the lab. */
export const DISK_MODELS = {
  /** A 7,200 rpm disk: about 150 random reads per second. */
  hdd: { readIops: 150, about: 'a 7,200 rpm disk: 150 reads/s' },
  /** A cloud SSD at its baseline (EBS gp3): 3,000 reads per second. */
  ssd: { readIops: 3000, about: 'a cloud SSD at its baseline (EBS gp3): 3,000 reads/s' },
  /** The datadir on the machine's own file system, reads as fast as the machine's disk and cache. */
  none: { readIops: undefined, about: 'no model: the datadir on the machine\'s own disk, cold as fast as warm' },
} as const;
export type DiskModel = keyof typeof DISK_MODELS;
export const DISK_MODEL_NAMES = Object.keys(DISK_MODELS) as DiskModel[];
// Still none: on hdd the main job's zone-az-a fails its error budget (docs/warmup.md), and the suite has not been run on it.
export const DEFAULT_DISK_MODEL: DiskModel = 'none';

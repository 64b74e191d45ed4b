import type { AwsFaultType } from './context.js';
import { instancesByRegion, startInstances, stopInstances } from './ec2.js';
import { fisRegion, startExperiment, stopExperiments, templateOf } from './fis.js';

/**
 * power-off: a FIS experiment when the fault's label is mapped to a
 * template (fis.ts), else a forced stop of the hosts' EC2 instances
 * (ec2.ts). Each check refuses what its way could not do: hosts in two
 * regions for one experiment, a host without an instance id for a stop.
 */
export const powerOff: AwsFaultType = {
  check(ctx, f) {
    if (templateOf(ctx, f)) fisRegion(ctx, f);
    else instancesByRegion(ctx, f);
  },

  async inject(ctx, f) {
    const template = templateOf(ctx, f);
    return template ? startExperiment(ctx, f, template) : stopInstances(ctx, f);
  },

  async undo(ctx, f) {
    const template = templateOf(ctx, f);
    return template ? stopExperiments(ctx, f, template) : startInstances(ctx, f);
  },
};

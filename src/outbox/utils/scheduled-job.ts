import type { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';

/**
 * Registers a cron job under `name`. A tick still running when the next is due makes that
 * one skip: jobs never overlap in one process.
 */
export function scheduleJob(
  registry: SchedulerRegistry,
  name: string,
  cronTime: string,
  onTick: () => Promise<unknown>,
): void {
  const job = CronJob.from({
    cronTime,
    onTick: async () => {
      await onTick();
    },
    waitForCompletion: true,
    start: true,
    name,
  });
  registry.addCronJob(name, job);
}

/** Stops the job, waiting for a tick in progress, and removes it. A missing job is fine. */
export async function unscheduleJob(registry: SchedulerRegistry, name: string): Promise<void> {
  if (!registry.doesExist('cron', name)) return;
  await registry.getCronJob(name).stop();
  registry.deleteCronJob(name);
}

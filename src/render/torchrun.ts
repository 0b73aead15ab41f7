import { wholeSeconds } from './units';
import { Elastic } from '../elastic';

/** The command that launches torchrun when the user names no other. */
export const TORCHRUN = ['torchrun'];

/**
 * torchrun's flags for an elastic config, in the underscore spellings that every torch release accepts.
 *
 * A single node gets every setting as a flag. Several nodes get only what the operator cannot carry:
 * the node range, process count, restarts and rendezvous reach torchrun as the `PET_*` variables the
 * operator derives from the manifest, so a flag can never contradict them.
 */
export function torchrunFlags(elastic: Elastic): string[] {
  const shared = [
    `--monitor_interval=${wholeSeconds(elastic.monitorInterval, 'elastic.monitorInterval')}`,
    `--start_method=${elastic.startMethod}`,
  ];
  if (!elastic.isSingleNode) return shared;
  const rdzvConf = renderRdzvConf(elastic.rdzvConfigs);
  return [
    '--standalone',
    `--nnodes=${elastic.nnodes}`,
    `--nproc_per_node=${elastic.nprocPerNode.value}`,
    `--max_restarts=${elastic.maxRestarts}`,
    ...shared,
    ...rdzvConf ? [`--rdzv_conf=${rdzvConf}`] : [],
  ];
}

/** torchrun's `k1=v1,k2=v2` form, which is also how the operator writes `PET_RDZV_CONF`. */
export function renderRdzvConf(configs: { [key: string]: string }): string {
  return Object.entries(configs).map(([key, value]) => `${key}=${value}`).join(',');
}

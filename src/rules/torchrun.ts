import { isObject, isWholeNumber, Problem, ProblemKind, show } from './problem';

const OPERATIONAL = ProblemKind.OPERATIONAL;
const START_METHODS = ['spawn', 'fork', 'forkserver'];
const NPROC_PER_NODE = /^(auto|cpu|gpu|[1-9]\d*)$/;

/** A node range as torchrun and the operator take it: at least 1 node, the minimum not above the maximum. */
export function checkNodeRange(min: unknown, max: unknown, path: string): Problem[] {
  if (!isWholeNumber(min, 1)) return [{ path, message: `minimum ${show(min)} must be a whole number of at least 1`, kind: OPERATIONAL }];
  if (!isWholeNumber(max, 1)) return [{ path, message: `maximum ${show(max)} must be a whole number of at least 1`, kind: OPERATIONAL }];
  if ((min as number) > (max as number)) return [{ path, message: `minimum ${min} is above maximum ${max}`, kind: OPERATIONAL }];
  return [];
}

/** Process counts per node that torchrun accepts: `auto`, `cpu`, `gpu` or a whole number of at least 1. */
export function checkNprocPerNode(nproc: unknown, path: string): Problem[] {
  if (typeof nproc === 'string' && NPROC_PER_NODE.test(nproc)) return [];
  return [{ path, message: `${show(nproc)} is not a process count: use "auto", "cpu", "gpu" or a whole number of at least 1`, kind: OPERATIONAL }];
}

/**
 * Rendezvous settings, which travel as `k1=v1,k2=v2` (torchrun's `--rdzv_conf`, the operator's `PET_RDZV_CONF`):
 * a key or value holding `,`, a key holding `=`, or an empty key or value cannot be split back.
 */
export function checkRdzvConf(entries: readonly unknown[], path: string): Problem[] {
  const problems: Problem[] = [];
  entries.forEach((entry, i) => {
    const { key, value } = isObject(entry) ? entry : { key: undefined, value: undefined };
    if (typeof key !== 'string' || key === '' || /[,=\s]/.test(key)) {
      problems.push({ path: `${path}[${i}].key`, message: `${show(key)} is not a rendezvous key: it must be non-empty, without ',', '=' or spaces`, kind: OPERATIONAL });
    }
    if (typeof value !== 'string' || value === '' || value.includes(',')) {
      problems.push({ path: `${path}[${i}].value`, message: `${show(value)} is not a rendezvous value for ${show(key)}: it must be non-empty, without ','`, kind: OPERATIONAL });
    }
  });
  return problems;
}

/** A container's command line, `command` followed by `args`, whatever the manifest holds there. */
export function commandLine(container: { command?: unknown; args?: unknown }): unknown[] {
  return [...Array.isArray(container.command) ? container.command : [], ...Array.isArray(container.args) ? container.args : []];
}

/** Whether a container's command launches torchrun, and where its own arguments start. */
export function torchrunArgsStart(argv: readonly unknown[]): number | undefined {
  const program = String(argv[0] ?? '').split('/').pop() ?? '';
  if (program === 'torchrun') return 1;
  if (/^python[\d.]*$/.test(program) && argv[1] === '-m' && argv[2] === 'torch.distributed.run') return 3;
  return undefined;
}

/**
 * The flags of a torchrun command line (`command` followed by `args`), checked as torchrun would:
 * node range, process count, restarts, monitor interval, start method and rendezvous settings.
 *
 * @param path the field path of the argument list, e.g. `spec.template.spec.containers[0].command`
 */
export function checkTorchrunCommand(argv: readonly unknown[], path: string): Problem[] {
  const start = torchrunArgsStart(argv);
  if (start === undefined) return [];
  const problems: Problem[] = [];
  for (let i = start; i < argv.length; i++) {
    const arg = String(argv[i]);
    if (!arg.startsWith('-') || arg === '-m' || arg === '--module') break;
    const [flag, inline] = arg.split(/=(.*)/s, 2);
    const takesValue = flag !== '--standalone' && flag !== '--no_python' && flag !== '--no-python' && flag !== '--run_path' && flag !== '--run-path';
    const value = inline ?? (takesValue ? String(argv[++i]) : undefined);
    const at = `${path}[${i}]`;
    switch (flag.replace(/-/g, '_')) {
      case '__nnodes': {
        const [min, max = min, extra] = String(value).split(':');
        problems.push(...extra !== undefined || !/^\d+$/.test(min) || !/^\d+$/.test(max)
          ? [{ path: at, message: `--nnodes ${show(value)} is not in "MIN:MAX" format`, kind: OPERATIONAL }]
          : checkNodeRange(Number(min), Number(max), at).map(p => ({ ...p, message: `--nnodes ${show(value)}: ${p.message}` })));
        break;
      }
      case '__nproc_per_node':
        problems.push(...checkNprocPerNode(value, at).map(p => ({ ...p, message: `--nproc_per_node ${p.message}` })));
        break;
      case '__max_restarts':
        if (!/^\d+$/.test(String(value))) problems.push({ path: at, message: `--max_restarts ${show(value)} must be a whole number of at least 0`, kind: OPERATIONAL });
        break;
      case '__monitor_interval':
        if (!/^[1-9]\d*$/.test(String(value))) problems.push({ path: at, message: `--monitor_interval ${show(value)} must be a whole number of seconds, at least 1`, kind: OPERATIONAL });
        break;
      case '__start_method':
        if (!START_METHODS.includes(String(value))) {
          problems.push({ path: at, message: `--start_method ${show(value)} is not a start method: use ${START_METHODS.map(show).join(', ')}`, kind: OPERATIONAL });
        }
        break;
      case '__rdzv_conf':
        problems.push(...checkRdzvConf(String(value).split(',').map(pair => {
          const [key, confValue] = pair.split(/=(.*)/s, 2);
          return { key, value: confValue };
        }), `${at}(--rdzv_conf)`));
        break;
    }
  }
  return problems;
}

/** The value of one of torchrun's flags on a command line, in either spelling; undefined when absent or not torchrun. */
export function torchrunFlag(argv: readonly unknown[], flag: string): string | undefined {
  const start = torchrunArgsStart(argv);
  if (start === undefined) return undefined;
  for (let i = start; i < argv.length; i++) {
    const arg = String(argv[i]);
    if (!arg.startsWith('-') || arg === '-m' || arg === '--module') return undefined;
    const [name, inline] = arg.split(/=(.*)/s, 2);
    if (name.replace(/^--/, '').replace(/-/g, '_') === flag) return inline ?? String(argv[i + 1]);
  }
  return undefined;
}

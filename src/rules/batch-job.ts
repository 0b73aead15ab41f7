import { checkMetadataMaps } from './names';
import { checkImages, checkPodTemplate, checkSharedMemory, NO_INJECTED_ENV, processesPerPod } from './pod-template';
import { checkWholeNumbers, isObject, Json, Problem, ProblemKind, show } from './problem';
import { checkJobName } from './pytorchjob';
import { checkBatchJobScheduling } from './scheduling';
import { checkTorchrunFlags, commandLine, findTorchrun, NPROC_PER_NODE_OPTION, optionValue, STANDALONE_OPTION } from './torchrun';

const OPERATIONAL = ProblemKind.OPERATIONAL;

/**
 * Rules for the `batch/v1` Job of a single-node torchrun job: what the API server, the Job controller,
 * the kubelet or torchrun refuses.
 */
export function checkTrainingBatchJob(job: Json): Problem[] {
  const spec: Json = isObject(job.spec) ? job.spec : {};
  const template: Json = isObject(spec.template) ? spec.template : {};
  const containers: unknown[] = Array.isArray(template.spec?.containers) ? template.spec.containers : [];
  const problems = [...checkJobName(job.metadata, {}, OPERATIONAL), ...checkMetadataMaps(job.metadata, 'metadata', OPERATIONAL)];
  problems.push(...checkWholeNumbers('spec', [
    ['backoffLimit', spec.backoffLimit, 0, 'a whole number of at least 0'],
    ['ttlSecondsAfterFinished', spec.ttlSecondsAfterFinished, 0, 'a whole number of seconds, at least 0'],
    ['activeDeadlineSeconds', spec.activeDeadlineSeconds, 1, 'a whole number of seconds, at least 1'],
  ], OPERATIONAL));
  const restartPolicy = template.spec?.restartPolicy;
  if (restartPolicy !== 'Never' && restartPolicy !== 'OnFailure') {
    problems.push({ path: 'spec.template.spec.restartPolicy', message: `${show(restartPolicy)} is not allowed in a Job: use "Never" or "OnFailure"`, kind: OPERATIONAL });
  }
  problems.push(...checkImages(containers, 'spec.template.spec.containers', OPERATIONAL));
  containers.forEach((container, i) => {
    if (!isObject(container)) return;
    const path = `spec.template.spec.containers[${i}]`;
    const torchrun = findTorchrun(container, path);
    problems.push(...checkTorchrunFlags(torchrun));
    const argv = commandLine(container);
    const torchrunFlags = [`--${STANDALONE_OPTION}`, `--${NPROC_PER_NODE_OPTION}`];
    if (torchrun.launches.length === 0 && torchrun.fullyRead && argv.some(arg => torchrunFlags.some(flag => String(arg).startsWith(flag)))) {
      problems.push({
        path: `${path}.command[0]`,
        message: `${show(argv[0])} is given torchrun's flags but is not torchrun: use torchrun or python -m torch.distributed.run`,
        kind: OPERATIONAL,
      });
    }
    // Without the flag torchrun starts one process (no operator injects PET_NPROC_PER_NODE here); a count not shown counts as one.
    const processes = torchrun.launches.map(launch => processesPerPod(optionValue(launch, NPROC_PER_NODE_OPTION) ?? '1', container));
    problems.push(...checkSharedMemory(template, i, Math.max(1, ...processes), 'spec.template'));
  });
  problems.push(...checkPodTemplate(template, 'spec.template', NO_INJECTED_ENV), ...checkBatchJobScheduling(job));
  return problems;
}

import { readdirSync } from 'fs';
import { join } from 'path';
import { kfpytorch } from './support/cli';

/**
 * A corpus of manifests written for these tests in the styles that upstream projects publish (the operator's examples
 * and webhook tests, the Kubeflow docs, a Helm chart's rendered output, Kueue and Volcano samples, cloud vendors' GPU
 * recipes, `kubectl get -o yaml`), each run through `kfpytorch validate` with the bundled schema, its output compared
 * line for line: clean files exit 0 with no error (and a warning only where the manifest is deprecated or risky),
 * broken files exit 1 with exactly the problems they hold.
 */
const CORPUS = join(__dirname, 'fixtures', 'corpus');

/** What one file gives: its exit status and every line printed, without the `FILE:` in front of the problems. */
interface Expected {
  readonly status: number;
  /** `DOCUMENT: FIELD: MESSAGE (KIND, SEVERITY)`, in the order printed. */
  readonly problems: readonly string[];
  readonly summary: string;
}

// The rules' descriptions of a valid value, as the messages state them.
const LABEL_VALUE = 'empty, or at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit';
const QUALIFIED_NAME = 'an optional DNS subdomain prefix and \'/\', then at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit';
const DNS_1123_LABEL = 'lower-case letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters';
const ENV_NAME = 'it must be non-empty printable ASCII without \'=\'';
const IMAGE_REFERENCE = 'the kubelet fails the pod with InvalidImageName; use [registry/]path[:tag][@digest], with a path of lower-case letters, digits and separators';
const STANDALONE = '--standalone gives each pod a rendezvous of its own on localhost instead of the one the operator injects: the pods never form one world; leave it out';
const CPU_SHM = 'has no memory-backed volume at /dev/shm while 4 processes share the pod: DataLoader workers may exhaust the runtime\'s 64 MiB';

const NPROC_FLAG_WINS = '--nproc_per_node "8" wins over the spec.nprocPerNode "4" the operator injects as PET_NPROC_PER_NODE: '
  + 'torchrun starts the flag\'s number of processes, but the WORLD_SIZE in the container\'s environment counts the other; make them agree';
const MASTER = 'spec.pytorchReplicaSpecs[Master].template.spec';
const WORKER = 'spec.pytorchReplicaSpecs[Worker].template.spec';

function clean(summary: string, warnings: readonly string[] = []): Expected {
  return { status: 0, problems: warnings, summary };
}

function broken(summary: string, problems: readonly string[]): Expected {
  return { status: 1, problems, summary };
}

const ONE_CLEAN_JOB = '1 training job(s) checked, 0 error(s), 0 warning(s)';

/** Legitimate jobs, and what they must give: no error, and only the warnings they deserve. */
const CLEAN: { readonly [file: string]: Expected } = {
  // torchrun from a shell, in its common forms, beside spec.nprocPerNode.
  'bash-c-one-line.yaml': clean(ONE_CLEAN_JOB),
  'sh-c-with-args.yaml': clean(ONE_CLEAN_JOB),
  'efa-multi-line-script.yaml': clean(ONE_CLEAN_JOB),
  'infiniband-python-m-run.yaml': clean(ONE_CLEAN_JOB),
  'helm-rendered-exec-torchrun.yaml': clean('1 training job(s) checked, 0 error(s), 0 warning(s), 2 other object(s) passed over'),
  'script-comments-heredoc.yaml': clean(ONE_CLEAN_JOB),
  'host-network-rdma.yaml': clean(ONE_CLEAN_JOB),
  // Objects as a cluster or a generator writes them.
  'kubectl-get-pytorchjob.yaml': clean(ONE_CLEAN_JOB),
  'generate-name.yaml': clean('2 training job(s) checked, 0 error(s), 0 warning(s)'),
  // Works, with a warning (an error only with --strict).
  'torchrun-nproc-per-node.yaml': clean('1 training job(s) checked, 0 error(s), 2 warning(s)', [
    `1: ${MASTER}.containers[0].args[0]: ${NPROC_FLAG_WINS} (operational, warning)`,
    `1: ${WORKER}.containers[0].args[0]: ${NPROC_FLAG_WINS} (operational, warning)`,
  ]),
  'cpu-gloo-without-shm.yaml': clean('1 training job(s) checked, 0 error(s), 2 warning(s)', [
    `1: ${MASTER}.containers[0].volumeMounts: ${CPU_SHM} (operational, warning)`,
    `1: ${WORKER}.containers[0].volumeMounts: ${CPU_SHM} (operational, warning)`,
  ]),
  'deprecated-elastic-nprocpernode.yaml': clean('1 training job(s) checked, 0 error(s), 1 warning(s)', [
    '1: spec.elasticPolicy.nProcPerNode: 4 is deprecated: use spec.nprocPerNode (webhook, warning)',
  ]),
  'elastic-master-without-torchrun.yaml': clean(ONE_CLEAN_JOB),
  'yaml-anchors.yaml': clean(ONE_CLEAN_JOB),
  // Scheduling.
  'kueue-queued.yaml': clean('1 training job(s) checked, 0 error(s), 0 warning(s), 1 other object(s) passed over'),
  'volcano-gang.yaml': clean('1 training job(s) checked, 0 error(s), 0 warning(s), 1 other object(s) passed over'),
  // The Job's template is checked against the pod template embedded in the PyTorchJob CRD, whose metadata lists only
  // labels, annotations, finalizers, name and namespace, while a batch/v1 Job's template takes the whole ObjectMeta.
  'kubectl-get-job.yaml': clean(ONE_CLEAN_JOB),
  // The operator counts a process count that is not a number as one process per pod in WORLD_SIZE.
  'nproc-per-node-auto-without-torchrun.yaml': clean(ONE_CLEAN_JOB),
};

/** Jobs that the API server, the kubelet or torchrun refuse or hang on, and exactly what validate says of each. */
const BROKEN: { readonly [file: string]: Expected } = {
  'job-image-references.yaml': broken('1 training job(s) checked, 2 error(s), 0 warning(s)', [
    `1: spec.template.spec.containers[0].image: "gcr.io/<your_project>/train:latest" is not an image reference: ${IMAGE_REFERENCE} (operational, error)`,
    '1: spec.template.spec.containers[1].image: "docker.io/fluent/fluent-bit:3.0.7 " has space around it: the API server refuses an image with leading or trailing whitespace (operational, error)',
  ]),
  'env-names.yaml': broken('1 training job(s) checked, 2 error(s), 0 warning(s)', [
    `1: ${MASTER}.containers[0].env[0].name: "" is not an environment variable name: ${ENV_NAME} (operational, error)`,
    `1: ${WORKER}.containers[0].env[0].name: "NCCL_DEBUG=INFO" is not an environment variable name: ${ENV_NAME} (operational, error)`,
  ]),
  'labels-annotations.yaml': broken('1 training job(s) checked, 5 error(s), 0 warning(s)', [
    `1: metadata.labels[git-branch]: "feature/new-loss" is not a label value: ${LABEL_VALUE} (schema, error)`,
    `1: metadata.labels[search/ranking/team]: "search/ranking/team" is not a label key: ${QUALIFIED_NAME} (schema, error)`,
    `1: metadata.annotations[ci.example.com/triggered by]: "ci.example.com/triggered by" is not an annotation key: ${QUALIFIED_NAME} (schema, error)`,
    '1: spec.pytorchReplicaSpecs[Master].template.metadata.labels[git-commit-subject]: "Use a listwise loss and drop the pairwise sampler" is not a label value: '
      + `${LABEL_VALUE} (operational, error)`,
    '1: spec.pytorchReplicaSpecs[Master].template.metadata.annotations[_ci.example.com/build]: "_ci.example.com/build" is not an annotation key: '
      + `${QUALIFIED_NAME} (operational, error)`,
  ]),
  'node-selector.yaml': broken('1 training job(s) checked, 2 error(s), 0 warning(s)', [
    `1: ${MASTER}.nodeSelector[nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB]: "nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB" is not a node selector key: `
      + `${QUALIFIED_NAME} (operational, error)`,
    `1: ${WORKER}.nodeSelector[nvidia.com/gpu.product]: "NVIDIA A100-SXM4-80GB" is not a label value: ${LABEL_VALUE} (operational, error)`,
  ]),
  'volume-names.yaml': broken('1 training job(s) checked, 3 error(s), 0 warning(s)', [
    `1: ${MASTER}.volumes[1].name: "training_data" is not a DNS-1123 label: ${DNS_1123_LABEL} (operational, error)`,
    `1: ${MASTER}.volumes[2].name: "Checkpoints" is not a DNS-1123 label: ${DNS_1123_LABEL} (operational, error)`,
    `1: ${WORKER}.volumes[1].name: "training_data" is not a DNS-1123 label: ${DNS_1123_LABEL} (operational, error)`,
  ]),
  'mount-paths.yaml': broken('1 training job(s) checked, 2 error(s), 0 warning(s)', [
    `1: ${MASTER}.containers[0].volumeMounts[1].mountPath: "" is empty: a mount needs the path it is mounted at (operational, error)`,
    `1: ${WORKER}.containers[0].volumeMounts[1].mountPath: "/data" is mounted twice: each path takes one volume (operational, error)`,
  ]),
  // torchrun's flags against what the operator injects, on the command line and in scripts.
  'torchrun-standalone.yaml': broken('1 training job(s) checked, 2 error(s), 0 warning(s)', [
    `1: ${MASTER}.containers[0].command[1]: ${STANDALONE} (operational, error)`,
    `1: ${WORKER}.containers[0].args[0]: ${STANDALONE} (operational, error)`,
  ]),
  'torchrun-nnodes.yaml': broken('1 training job(s) checked, 2 error(s), 0 warning(s)', [
    `1: ${MASTER}.containers[0].command[2]: --nnodes "4" overrides the PET_NNODES "3" the operator injects: `
      + 'torchrun waits for another number of nodes than the operator starts; leave it out (operational, error)',
    `1: ${WORKER}.containers[0].command[2]: --nnodes "4" overrides the PET_NNODES "3" the operator injects: `
      + 'torchrun waits for another number of nodes than the operator starts; leave it out (operational, error)',
  ]),
  'torchrun-node-rank.yaml': broken('1 training job(s) checked, 1 error(s), 0 warning(s)', [
    `1: ${WORKER}.containers[0].command[1]: --node_rank "0" overrides the PET_NODE_RANK the operator injects ("1", "2" in the pods): `
      + 'the pods\' ranks collide or leave a gap, so the world never completes; leave it out (operational, error)',
  ]),
  'torchrun-master-addr.yaml': broken('1 training job(s) checked, 4 error(s), 0 warning(s)', [
    `1: ${MASTER}.containers[0].command[2]: --master_addr "10.0.0.1" overrides the PET_MASTER_ADDR "swin-ddp-master-0" the operator injects: `
      + 'the pods never meet at one master; leave it out (operational, error)',
    `1: ${MASTER}.containers[0].command[2]: --master_port "29500" overrides the PET_MASTER_PORT "23456" the operator injects: `
      + 'pods that follow the operator look for the master on another port; set the Master\'s pytorchjob-port instead (operational, error)',
    `1: ${WORKER}.containers[0].command[2]: --master_addr "10.0.0.1" overrides the PET_MASTER_ADDR "swin-ddp-master-0" the operator injects: `
      + 'the pods never meet at one master; leave it out (operational, error)',
    `1: ${WORKER}.containers[0].command[2]: --master_port "29500" overrides the PET_MASTER_PORT "23456" the operator injects: `
      + 'pods that follow the operator look for the master on another port; set the Master\'s pytorchjob-port instead (operational, error)',
  ]),
  'torchrun-rdzv-endpoint.yaml': broken('1 training job(s) checked, 1 error(s), 0 warning(s)', [
    `1: ${WORKER}.containers[0].command[4]: --rdzv_endpoint "localhost:29400" overrides the PET_RDZV_ENDPOINT "bert-elastic-worker-0:23456" the operator injects: `
      + 'torchrun no longer follows the elastic policy; set elasticPolicy.rdzvHost and elasticPolicy.rdzvPort instead (operational, error)',
  ]),
  // Problems in documents 2 and 3 of one stream, behind a ConfigMap.
  'several-documents.yaml': broken('2 training job(s) checked, 7 error(s), 0 warning(s), 1 other object(s) passed over', [
    `2: ${MASTER}.containers[0].args[0]: --nnodes "2" overrides the PET_NNODES "3" the operator injects: `
      + 'torchrun waits for another number of nodes than the operator starts; leave it out (operational, error)',
    `2: ${WORKER}.containers[0].args[0]: --nnodes "2" overrides the PET_NNODES "3" the operator injects: `
      + 'torchrun waits for another number of nodes than the operator starts; leave it out (operational, error)',
    `2: ${WORKER}.volumes[1].name: "wandb_cache" is not a DNS-1123 label: ${DNS_1123_LABEL} (operational, error)`,
    `2: ${WORKER}.containers[0].env[0].name: "WANDB_MODE=offline" is not an environment variable name: ${ENV_NAME} (operational, error)`,
    `3: metadata.labels[model-version]: "v3.2.0+staging" is not a label value: ${LABEL_VALUE} (operational, error)`,
    '3: spec.template.spec.restartPolicy: "Always" is not allowed in a Job: use "Never" or "OnFailure" (operational, error)',
    `3: spec.template.spec.containers[0].image: "gcr.io/<your_project>/roberta-eval:latest" is not an image reference: ${IMAGE_REFERENCE} (operational, error)`,
  ]),
  // The webhook refuses only an empty image; the kubelet (InvalidImageName) and the API server, on the pod, refuse these.
  'pytorchjob-image-references.yaml': broken('1 training job(s) checked, 2 error(s), 0 warning(s)', [
    `1: ${MASTER}.containers[0].image: "gcr.io/<your_project>/train:latest" is not an image reference: ${IMAGE_REFERENCE} (operational, error)`,
    `1: ${WORKER}.containers[0].image: "gcr.io/acme-ml/pytorch-dist-mnist:1.0 " has space around it: `
        + 'the API server refuses an image with leading or trailing whitespace (operational, error)',
  ]),
  // A script holding a $(NAME) reference is not read at all: shellInvocation gives up on the uncertain script word.
  'kubelet-reference-in-script.yaml': broken('1 training job(s) checked, 2 error(s), 0 warning(s)', [
    `1: ${MASTER}.containers[0].command[2]: ${STANDALONE} (operational, error)`,
    `1: ${WORKER}.containers[0].command[2]: ${STANDALONE} (operational, error)`,
  ]),
  // gpuCount counts every nvidia.com/ resource, and nvidia.com/hostdev is a network device.
  'rdma-nics-without-shm.yaml': broken('1 training job(s) checked, 1 error(s), 0 warning(s)', [
    `1: ${MASTER}.containers[0].volumeMounts: has no memory-backed volume at /dev/shm while 8 GPU processes share the pod: `
        + 'NCCL fails on the runtime\'s 64 MiB (operational, error)',
  ]),
  // In hand-written YAML both mounts are the user's, and SharedMemory.disabled() is the constructs' API.
  'shm-mounted-twice.yaml': broken('1 training job(s) checked, 1 error(s), 0 warning(s)', [
    `1: ${MASTER}.containers[0].volumeMounts[1].mountPath: "/dev/shm" is mounted twice: each path takes one volume (a job built with the constructs mounts its shared memory there unless given SharedMemory.disabled()) (operational, error)`,
  ]),
};

/**
 * Files on which validate does not yet give what it should: each test states the right output and is expected to
 * fail until the library is fixed (then jest reports it, and it moves to CLEAN or BROKEN).
 */


/** The output validate prints for a file: its problems, each after `FILE:`, then the counts. */
function output(file: string, { problems, summary }: Expected): string {
  return [...problems.map(problem => `${file}:${problem}`), summary, ''].join('\n');
}

function corpusFile(folder: string, name: string): string {
  return join(CORPUS, folder, name);
}

test('every file of the corpus has its expected output', () => {
  const listed = (folder: string, table: { readonly [file: string]: unknown }) => Object.keys(table).map(name => `${folder}/${name}`).sort();
  for (const [folder, table] of [['clean', CLEAN], ['broken', BROKEN]] as const) {
    expect(readdirSync(join(CORPUS, folder)).sort().map(name => `${folder}/${name}`)).toEqual(listed(folder, table));
  }
});

describe('clean manifests: exit 0, no error', () => {
  test.each(Object.entries(CLEAN))('%s', async (name, expected) => {
    const file = corpusFile('clean', name);
    expect(await kfpytorch('validate', file)).toEqual({ status: 0, stdout: output(file, expected), stderr: '' });
  });

  test.each(Object.entries(CLEAN))('%s with --strict: exit 1 only for its warnings', async (name, expected) => {
    const file = corpusFile('clean', name);
    const status = expected.problems.length > 0 ? 1 : 0;
    expect(await kfpytorch('validate', file, '--strict')).toEqual({ status, stdout: output(file, expected), stderr: '' });
  });
});

describe('broken manifests: exit 1, exactly their problems', () => {
  test.each(Object.entries(BROKEN))('%s', async (name, expected) => {
    const file = corpusFile('broken', name);
    expect(await kfpytorch('validate', file)).toEqual({ status: 1, stdout: output(file, expected), stderr: '' });
  });
});

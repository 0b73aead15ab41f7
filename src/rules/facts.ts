/**
 * Facts about the objects the training operator, the Job controller and the kubelet read, written once:
 * the renderers write them, the rules and tools read them.
 */

/** `kubeflow.org/v1` PyTorchJob (a test compares it with the generated L1 in imports/). */
export const PYTORCHJOB_API_VERSION = 'kubeflow.org/v1';
export const PYTORCHJOB_KIND = 'PyTorchJob';
/** `batch/v1` Job, for single-node torchrun jobs. */
export const BATCH_JOB_API_VERSION = 'batch/v1';
export const BATCH_JOB_KIND = 'Job';

/** The container the operator trains in, and the only one it injects its port into. */
export const TRAINING_CONTAINER_NAME = 'pytorch';
/** The name of the port through which the pods reach the master or the rendezvous. */
export const PORT_NAME = 'pytorchjob-port';
/** The port the operator gives the `pytorch` container when it has none named `pytorchjob-port`. */
export const DEFAULT_PORT = 23456;

/** Where PyTorch's processes share memory. */
export const SHARED_MEMORY_PATH = '/dev/shm';

/** The label the training operator puts on every pod of a job, with the job's name as value. */
export const OPERATOR_JOB_NAME_LABEL = 'training.kubeflow.org/job-name';
/** The label the training operator puts on every pod: the replica type in lower case (`master`, `worker`). */
export const OPERATOR_REPLICA_TYPE_LABEL = 'training.kubeflow.org/replica-type';
/** The label the training operator puts on every pod: the pod's index within its replica type. */
export const OPERATOR_REPLICA_INDEX_LABEL = 'training.kubeflow.org/replica-index';
/** The label the Job controller puts on every pod of a Job, with the Job's name as value. */
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
/** The label the training operator puts on every pod, naming its controller. */
export const OPERATOR_NAME_LABEL = 'training.kubeflow.org/operator-name';
/** The value of `training.kubeflow.org/operator-name` on the pods of a PyTorchJob. */
export const OPERATOR_NAME = 'pytorchjob-controller';
/** The label the training operator puts on the Master pod (or, without a Master, on Worker 0). */
export const OPERATOR_JOB_ROLE_LABEL = 'training.kubeflow.org/job-role';
/** The value of `training.kubeflow.org/job-role`. */
export const MASTER_ROLE = 'master';
/** The init container the operator appends to Worker pods of a job with a Master; it waits for the master's DNS name. */
export const OPERATOR_INIT_CONTAINER_NAME = 'init-pytorch';

/** A container's restart policies the API server knows (Kubernetes 1.35 and later take them on every container). */
export const CONTAINER_RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
/** The restart policy that makes an init container a native sidecar, running beside the main containers. */
export const SIDECAR_RESTART_POLICY = 'Always';
/** The protocol of a container port that names none. */
export const DEFAULT_PROTOCOL = 'TCP';
/** The default DNS policy: the cluster's DNS, except on the host network, where it falls back to the node's. */
export const CLUSTER_DNS_POLICY = 'ClusterFirst';
/** The DNS policy that takes the node's resolver. */
export const NODE_DNS_POLICY = 'Default';
/** The DNS policy that gives a pod on the host network the cluster's DNS. */
export const HOST_NETWORK_DNS_POLICY = 'ClusterFirstWithHostNet';
/** The DNS policy that takes the nameservers from `dnsConfig` alone. */
export const CUSTOM_DNS_POLICY = 'None';
/** Resource names of huge pages: `hugepages-<page size>`, such as `hugepages-2Mi`. */
export const HUGEPAGES_PREFIX = 'hugepages-';

/** Adds or drops every capability (any case). */
export const ALL_CAPABILITIES = 'ALL';
/** The prefix of capability names in linux/capability.h, which Kubernetes leaves out. */
export const CAPABILITY_PREFIX = 'CAP_';
/** The Linux capabilities, as in linux/capability.h up to CAP_CHECKPOINT_RESTORE, without the `CAP_` prefix. */
export const LINUX_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
];

/** The job label naming the Kueue LocalQueue that admits the job. */
export const KUEUE_QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';
/** The job label naming the Kueue WorkloadPriorityClass that orders the job in its queue. */
export const KUEUE_PRIORITY_LABEL = 'kueue.x-k8s.io/priority-class';
/** Pod-template annotations of Kueue's topology-aware scheduling, read per pod set. */
export const KUEUE_TOPOLOGY_ANNOTATIONS = {
  required: 'kueue.x-k8s.io/podset-required-topology',
  preferred: 'kueue.x-k8s.io/podset-preferred-topology',
  unconstrained: 'kueue.x-k8s.io/podset-unconstrained-topology',
  sliceLevel: 'kueue.x-k8s.io/podset-slice-required-topology',
  sliceSize: 'kueue.x-k8s.io/podset-slice-size',
  group: 'kueue.x-k8s.io/podset-group-name',
} as const;
/** Kueue's name for the pod set of a batch/v1 Job; a PyTorchJob's are its replica types in lower case. */
export const KUEUE_JOB_POD_SET = 'main';
/** The Kueue integration (an entry of `integrations.frameworks`) that admits PyTorchJobs; off by default since Kueue v0.19. */
export const KUEUE_PYTORCHJOB_FRAMEWORK = 'kubeflow.org/pytorchjob';
/** The Kueue integration that admits TrainJobs (Kueue v0.17 and later write v2.2's runtime patches); on by default. */
export const KUEUE_TRAINJOB_FRAMEWORK = 'trainer.kubeflow.org/trainjob';
/** The Kueue integration that admits batch/v1 Jobs; on by default. */
export const KUEUE_BATCH_JOB_FRAMEWORK = 'batch/job';
/** The scheduler name of Volcano, which the operator's `--gang-scheduler-name=volcano` also gives the pods. */
export const VOLCANO_SCHEDULER_NAME = 'volcano';
/** The name a scheduler-plugins install (its Helm chart) gives the second scheduler that runs coscheduling. */
export const COSCHEDULING_SCHEDULER_NAME = 'scheduler-plugins-scheduler';
/** The scheduler name of NVIDIA's KAI scheduler. */
export const KAI_SCHEDULER_NAME = 'kai-scheduler';
/** The label naming the KAI Queue of a job and its pods. */
export const KAI_QUEUE_LABEL = 'kai.scheduler/queue';
/** The training operator's flag that turns gang scheduling on, naming the scheduler. */
export const GANG_SCHEDULER_FLAG = '--gang-scheduler-name';

/** Kubeflow Trainer v2 (the release whose CRDs `schemas/` holds): its API group and version. */
export const TRAINER_VERSION = 'v2.3.0';
export const TRAINER_GROUP = 'trainer.kubeflow.org';
export const TRAINER_API_VERSION = `${TRAINER_GROUP}/v1alpha1`;
export const TRAINJOB_KIND = 'TrainJob';
export const TRAINING_RUNTIME_KIND = 'TrainingRuntime';
export const CLUSTER_TRAINING_RUNTIME_KIND = 'ClusterTrainingRuntime';
/** The runtime kind a TrainJob's `runtimeRef` names when it names none. */
export const DEFAULT_RUNTIME_KIND = CLUSTER_TRAINING_RUNTIME_KIND;
/** The replicated job of a runtime's JobSet that trains, and its container, into which the torch plugin injects `PET_*`. */
export const TRAINER_JOB_NAME = 'node';
export const TRAINER_CONTAINER_NAME = 'node';
/** The label that marks a replicated job's role; the torch plugin looks for the value `trainer`. */
export const ANCESTOR_STEP_LABEL = 'trainer.kubeflow.org/trainjob-ancestor-step';
export const ANCESTOR_TRAINER = 'trainer';
/** The other ancestor steps, whose replicated jobs and containers bear these names. */
export const INITIALIZER_STEPS = ['dataset-initializer', 'model-initializer'];
/** The runtime label the SDK reads to know a runtime's framework. */
export const FRAMEWORK_LABEL = 'trainer.kubeflow.org/framework';
export const TORCH_FRAMEWORK = 'torch';
/** The port the torch plugin gives the `node` container and writes as `PET_MASTER_PORT`. */
export const TRAINER_MASTER_PORT = 29500;
/** What the torch plugin injects into the `node` container; the webhook refuses them in `trainer.env`. */
export const TRAINER_RESERVED_ENV = ['PET_NNODES', 'PET_NPROC_PER_NODE', 'PET_NODE_RANK', 'PET_MASTER_ADDR', 'PET_MASTER_PORT'];
/** The pod annotation holding a pod's index in its Job, from which the torch plugin reads `PET_NODE_RANK`. */
export const JOB_COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
/** The variable in which the Job controller gives every container of an Indexed Job's pod its index. */
export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** The TrainJob's `managedBy` values the CRD admits; the first is the default. */
export const TRAINJOB_MANAGERS = ['trainer.kubeflow.org/trainjob-controller', 'kueue.x-k8s.io/multikueue'];
/** The manager Kueue gives its own runtime patch. */
export const KUEUE_PATCH_MANAGER = 'kueue.x-k8s.io/manager';
/** The runtime template annotation from which Trainer's Volcano plugin reads the queue of the PodGroup. */
export const VOLCANO_QUEUE_ANNOTATION = 'scheduling.volcano.sh/queue-name';

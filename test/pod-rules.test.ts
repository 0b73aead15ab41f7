import { validatePodTemplateSchema, validatePyTorchJobSchema } from './support/crd-schema';
import { checkTrainingBatchJob } from '../src/rules/batch-job';
import { formatProblem } from '../src/rules/problem';
import { checkPyTorchJob } from '../src/rules/pytorchjob';

type Json = { [key: string]: any };

const IMAGE = 'docker.io/kubeflowkatib/pytorch-mnist:v1beta1-45c5727';
const MASTER = 'spec.pytorchReplicaSpecs[Master].template.spec';
const WORKER = 'spec.pytorchReplicaSpecs[Worker].template.spec';
const BATCH = 'spec.template.spec';
const ANTI_AFFINITY = 'affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution';
const DNS_1123 = 'is not a DNS-1123 label: lower-case letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters';
const SHARED_NETWORK = 'the containers of a pod share one network namespace, so only one of them can listen on it';
const NOT_A_CAPABILITY = 'is not a Linux capability: use a name such as "IPC_LOCK" or "SYS_NICE"';
const RESTART_POLICY = 'is not a container restart policy: use "Always", "OnFailure" or "Never"';

function container(fields: Json = {}): Json {
  return { name: 'pytorch', image: IMAGE, ...fields };
}

function sidecar(name: string, fields: Json = {}): Json {
  return { name, image: 'fluent/fluent-bit:3.0', restartPolicy: 'Always', ...fields };
}

/** A replica whose pod spec is one `pytorch` container plus the given fields (which may replace the containers). */
function replica(replicas: number, podSpec: Json = {}, labels?: Json): Json {
  return {
    replicas,
    restartPolicy: 'OnFailure',
    template: { ...(labels ? { metadata: { labels } } : {}), spec: { containers: [container()], ...podSpec } },
  };
}

/** A PyTorchJob named `test` with the given replica specs. */
function pytorchJob(replicaSpecs: Json, spec: Json = {}): Json {
  return { apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob', metadata: { name: 'test' }, spec: { ...spec, pytorchReplicaSpecs: replicaSpecs } };
}

/** A job with a Master and `workers` Workers whose pod specs both get the given fields. */
function jobWithPods(podSpec: Json, workers = 1): Json {
  return pytorchJob({ Master: replica(1, podSpec), Worker: replica(workers, podSpec) });
}

/** The rules' problems, formatted, with a job the strict CRD schema accepts. */
function problemsOf(job: Json): string[] {
  expect(validatePyTorchJobSchema(job)).toEqual([]);
  return checkPyTorchJob(job).map(formatProblem);
}

/** The batch/v1 Job of a single-node torchrun job, whose pod spec gets the given fields. */
function batchJob(podSpec: Json = {}): Json {
  const torchrun = container({ command: ['torchrun', '--standalone', '--nnodes=1', '--nproc_per_node=1', 'train.py'] });
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'train' },
    spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [torchrun], ...podSpec } } },
  };
}

/** The rules' problems with a Job, formatted, with a pod template the strict schema accepts. */
function batchProblemsOf(job: Json): string[] {
  expect(validatePodTemplateSchema(job.spec.template)).toEqual([]);
  return checkTrainingBatchJob(job).map(formatProblem);
}

describe('init containers are checked like containers', () => {
  const dataVolume = { name: 'data', emptyDir: {} };

  function initContainer(fields: Json = {}): Json {
    return { name: 'fetch-data', image: 'amazon/aws-cli:2.17.0', command: ['aws', 's3', 'sync', 's3://bucket/data', '/data'], ...fields };
  }

  const badInit = initContainer({
    image: '',
    resources: { requests: { cpu: 'lots' }, limits: { 'nvidia.com/gpu': '0.5' } },
    env: [{ name: 'AWS_REGION', value: 'eu-west-1' }, { name: 'AWS_REGION', value: 'us-east-1' }],
    volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'scratch', mountPath: '/data' }],
    ports: [{ containerPort: 70000 }],
  });

  function badInitProblems(pod: string): string[] {
    const at = `${pod}.initContainers[0]`;
    return [
      `${at}.image: "" is empty: every container needs an image`,
      `${at}.resources.requests[cpu]: "lots" is not a Kubernetes quantity (such as 4, 500m or 16Gi)`,
      `${at}.resources.limits[nvidia.com/gpu]: "0.5" is not a whole number: nvidia.com/gpu is counted in whole devices`,
      `${at}.env[1].name: "AWS_REGION" is set twice: each environment variable may be set once`,
      `${at}.volumeMounts[1].mountPath: "/data" is mounted twice: each path takes one volume`,
      `${at}.volumeMounts[1].name: "scratch" is not a volume of the pod`,
      `${at}.ports[0].containerPort: 70000 is not a port: use a whole number from 1 to 65535`,
    ];
  }

  test('a PyTorchJob with an init container and a native sidecar is valid', () => {
    const podSpec = {
      initContainers: [initContainer({ volumeMounts: [{ name: 'data', mountPath: '/data' }] }), sidecar('log-shipper')],
      containers: [container({ volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }] })],
      volumes: [dataVolume],
    };
    expect(problemsOf(jobWithPods(podSpec, 2))).toEqual([]);
  });

  test('an init container may set the operator\'s names: the operator appends its env to spec.containers only', () => {
    const env = [{ name: 'MASTER_ADDR', value: 'localhost' }, { name: 'WORLD_SIZE', value: '1' }, { name: 'PYTHONUNBUFFERED', value: '0' }];
    expect(problemsOf(jobWithPods({ initContainers: [initContainer({ env })] }))).toEqual([]);
  });

  test('a PyTorchJob\'s init container with every container problem', () => {
    const job = pytorchJob({ Master: replica(1), Worker: replica(1, { initContainers: [badInit], volumes: [dataVolume] }) });
    expect(checkPyTorchJob(job).map(formatProblem)).toEqual(badInitProblems(WORKER));
  });

  test('a Job\'s init container with every container problem', () => {
    const job = batchJob({ initContainers: [badInit], volumes: [dataVolume] });
    expect(checkTrainingBatchJob(job).map(formatProblem)).toEqual(badInitProblems(BATCH));
  });

  test('a Job with an init container and a native sidecar is valid', () => {
    const job = batchJob({ initContainers: [initContainer({ volumeMounts: [{ name: 'data', mountPath: '/data' }] }), sidecar('log-shipper')], volumes: [dataVolume] });
    expect(batchProblemsOf(job)).toEqual([]);
  });

  test('an init container without any image', () => {
    const job = pytorchJob({ Master: replica(1, { initContainers: [{ name: 'wait' }] }), Worker: replica(1) });
    expect(problemsOf(job)).toEqual([`${MASTER}.initContainers[0].image: (omitted) is empty: every container needs an image`]);
  });
});

describe('container names', () => {
  test('a name used by a container and an init container of one pod', () => {
    const podSpec = { initContainers: [sidecar('log-shipper')], containers: [container(), { name: 'log-shipper', image: IMAGE }] };
    const message = '"log-shipper" names two containers: the containers and init containers of a pod each need their own name';
    expect(problemsOf(pytorchJob({ Worker: replica(2, podSpec) }))).toEqual([`${WORKER}.initContainers[0].name: ${message}`]);
    expect(batchProblemsOf(batchJob({ initContainers: [sidecar('pytorch')] }))).toEqual([
      `${BATCH}.initContainers[0].name: "pytorch" names two containers: the containers and init containers of a pod each need their own name`,
    ]);
  });

  test('two init containers with one name', () => {
    const job = batchJob({ initContainers: [sidecar('proxy'), sidecar('proxy')] });
    expect(batchProblemsOf(job)).toEqual([
      `${BATCH}.initContainers[1].name: "proxy" names two containers: the containers and init containers of a pod each need their own name`,
    ]);
  });

  test.each(['Log_Shipper', 'log-shipper-', '-a', 'a.b', 'a'.repeat(64)])('%j is not a DNS-1123 label', (name) => {
    const podSpec = { containers: [container(), { name, image: IMAGE }], initContainers: [sidecar(name.toUpperCase())] };
    const job = pytorchJob({ Worker: replica(1, podSpec) });
    expect(problemsOf(job)).toEqual([
      `${WORKER}.containers[1].name: ${JSON.stringify(name)} ${DNS_1123}`,
      `${WORKER}.initContainers[0].name: ${JSON.stringify(name.toUpperCase())} ${DNS_1123}`,
    ]);
    expect(batchProblemsOf(batchJob({ initContainers: [sidecar(name)] }))).toEqual([`${BATCH}.initContainers[0].name: ${JSON.stringify(name)} ${DNS_1123}`]);
  });

  test.each(['a', '0', 'a'.repeat(63), 'fetch-data-2'])('%j is a DNS-1123 label', (name) => {
    expect(problemsOf(pytorchJob({ Worker: replica(1, { initContainers: [sidecar(name)] }) }))).toEqual([]);
  });

  test('init-pytorch is taken on Worker pods of a job with a Master, and only there', () => {
    const podSpec = { initContainers: [sidecar('init-pytorch')] };
    expect(problemsOf(pytorchJob({ Master: replica(1, podSpec), Worker: replica(2, podSpec) }))).toEqual([
      `${WORKER}.initContainers[0].name: "init-pytorch" is the name of the init container the operator adds to Worker pods of a job with a Master: choose another name`,
    ]);
    expect(problemsOf(pytorchJob({ Worker: replica(2, podSpec) }))).toEqual([]);
    expect(batchProblemsOf(batchJob(podSpec))).toEqual([]);
  });

  test('names of a replica the webhook refuses for lacking a pytorch container are left to that message', () => {
    const job = pytorchJob({ Master: replica(1), Worker: replica(1, { containers: [container({ name: 'PyTorch' })] }) });
    expect(problemsOf(job)).toEqual([`${WORKER.replace('.template.spec', '')}.template.spec.containers: has no container named "pytorch": the operator needs one`]);
  });
});

describe('container restart policies', () => {
  test('a native sidecar (an init container that restarts always) is valid', () => {
    expect(problemsOf(jobWithPods({ initContainers: [sidecar('log-shipper')] }))).toEqual([]);
    expect(batchProblemsOf(batchJob({ initContainers: [sidecar('log-shipper')] }))).toEqual([]);
  });

  test('OnFailure and Never on init and regular containers, which Kubernetes 1.35 takes (ContainerRestartRules)', () => {
    const podSpec = {
      initContainers: [sidecar('fetch', { restartPolicy: 'OnFailure' }), sidecar('once', { restartPolicy: 'Never' })],
      containers: [container({ restartPolicy: 'Never' }), sidecar('exporter', { restartPolicy: 'OnFailure' })],
    };
    expect(problemsOf(jobWithPods(podSpec))).toEqual([]);
    expect(batchProblemsOf(batchJob(podSpec))).toEqual([]);
  });

  test('values that are no restart policy, on init and regular containers', () => {
    const podSpec = { initContainers: [sidecar('proxy', { restartPolicy: 'always' })], containers: [container({ restartPolicy: 'Sometimes' })] };
    expect(problemsOf(pytorchJob({ Worker: replica(1, podSpec) }))).toEqual([
      `${WORKER}.containers[0].restartPolicy: "Sometimes" ${RESTART_POLICY}`,
      `${WORKER}.initContainers[0].restartPolicy: "always" ${RESTART_POLICY}`,
    ]);
    expect(batchProblemsOf(batchJob(podSpec))).toEqual([
      `${BATCH}.containers[0].restartPolicy: "Sometimes" ${RESTART_POLICY}`,
      `${BATCH}.initContainers[0].restartPolicy: "always" ${RESTART_POLICY}`,
    ]);
  });
});

describe('Linux capabilities', () => {
  function withCapabilities(add: unknown[], drop: unknown[] = []): Json {
    return { securityContext: { capabilities: { add, drop } } };
  }

  test('names in any case, and ALL, on containers and init containers', () => {
    const security = withCapabilities(['IPC_LOCK', 'sys_nice', 'Net_Admin', 'checkpoint_restore', 'PERFMON'], ['all']);
    const podSpec = { containers: [container(security)], initContainers: [sidecar('tuner', withCapabilities(['ALL'], ['NET_RAW']))] };
    expect(problemsOf(jobWithPods(podSpec))).toEqual([]);
    expect(batchProblemsOf(batchJob(podSpec))).toEqual([]);
  });

  test('names that are no Linux capability, added or dropped', () => {
    const podSpec = { containers: [container(withCapabilities(['CAP_FOO', 'SYS_NICEST'], ['']))], initContainers: [sidecar('tuner', withCapabilities(['IPCLOCK']))] };
    const expected = (pod: string) => [
      `${pod}.containers[0].securityContext.capabilities.add[0]: "CAP_FOO" ${NOT_A_CAPABILITY}`,
      `${pod}.containers[0].securityContext.capabilities.add[1]: "SYS_NICEST" ${NOT_A_CAPABILITY}`,
      `${pod}.containers[0].securityContext.capabilities.drop[0]: "" ${NOT_A_CAPABILITY}`,
      `${pod}.initContainers[0].securityContext.capabilities.add[0]: "IPCLOCK" ${NOT_A_CAPABILITY}`,
    ];
    expect(problemsOf(pytorchJob({ Worker: replica(1, podSpec) }))).toEqual(expected(WORKER));
    expect(batchProblemsOf(batchJob(podSpec))).toEqual(expected(BATCH));
  });

  test('a name with the CAP_ prefix, which containerd prefixes again', () => {
    const podSpec = { containers: [container(withCapabilities(['CAP_IPC_LOCK'], ['cap_sys_nice']))] };
    const expected = (pod: string) => [
      `${pod}.containers[0].securityContext.capabilities.add[0]: "CAP_IPC_LOCK" has the CAP_ prefix, which containerd adds again ("CAP_CAP_IPC_LOCK", a name the runtime does not know): write "IPC_LOCK"`,
      `${pod}.containers[0].securityContext.capabilities.drop[0]: "cap_sys_nice" has the CAP_ prefix, which containerd adds again ("CAP_CAP_SYS_NICE", a name the runtime does not know): write "SYS_NICE"`,
    ];
    expect(problemsOf(pytorchJob({ Worker: replica(1, podSpec) }))).toEqual(expected(WORKER));
    expect(batchProblemsOf(batchJob(podSpec))).toEqual(expected(BATCH));
  });

  test('an entry that is not a string, which the schema also refuses', () => {
    const job = pytorchJob({ Worker: replica(1, { containers: [container(withCapabilities([7]))] }) });
    expect(checkPyTorchJob(job).map(formatProblem)).toEqual([`${WORKER}.containers[0].securityContext.capabilities.add[0]: 7 ${NOT_A_CAPABILITY}`]);
  });
});

describe('hugepages', () => {
  function withResources(requests: Json | undefined, limits: Json | undefined): Json {
    return { containers: [container({ resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } })] };
  }

  test('requests equal to limits, in whole pages, beside cpu or memory', () => {
    expect(problemsOf(jobWithPods(withResources({ 'memory': '8Gi', 'hugepages-2Mi': '1Gi' }, { 'memory': '8Gi', 'hugepages-2Mi': '1024Mi' })))).toEqual([]);
    expect(problemsOf(jobWithPods(withResources(undefined, { 'cpu': '4', 'hugepages-1Gi': '2Gi' })))).toEqual([]);
    expect(batchProblemsOf(batchJob(withResources({ 'cpu': '1', 'hugepages-2Mi': '4Mi' }, { 'hugepages-2Mi': '4Mi' })))).toEqual([]);
  });

  test('a request without a limit, and a request that differs from its limit', () => {
    const podSpec = withResources({ 'memory': '1Gi', 'hugepages-2Mi': '1Gi', 'hugepages-1Gi': '1Gi' }, { 'hugepages-1Gi': '2Gi' });
    const expected = (pod: string) => [
      `${pod}.containers[0].resources.requests[hugepages-2Mi]: "1Gi" differs from limits[hugepages-2Mi] (omitted): hugepages must have a limit equal to their request`,
      `${pod}.containers[0].resources.requests[hugepages-1Gi]: "1Gi" differs from limits[hugepages-1Gi] "2Gi": hugepages must have a limit equal to their request`,
    ];
    expect(problemsOf(pytorchJob({ Worker: replica(1, podSpec) }))).toEqual(expected(WORKER));
    expect(batchProblemsOf(batchJob(podSpec))).toEqual(expected(BATCH));
  });

  test('a quantity that is not a whole number of pages', () => {
    const podSpec = withResources({ 'memory': '1Gi', 'hugepages-2Mi': '3Mi' }, { 'memory': '1Gi', 'hugepages-2Mi': '3Mi' });
    const expected = (pod: string) => [
      `${pod}.containers[0].resources.requests[hugepages-2Mi]: "3Mi" is not a whole number of 2Mi pages: hugepages-2Mi is allocated in whole pages`,
      `${pod}.containers[0].resources.limits[hugepages-2Mi]: "3Mi" is not a whole number of 2Mi pages: hugepages-2Mi is allocated in whole pages`,
    ];
    expect(problemsOf(pytorchJob({ Worker: replica(1, podSpec) }))).toEqual(expected(WORKER));
    expect(batchProblemsOf(batchJob(podSpec))).toEqual(expected(BATCH));
  });

  test('hugepages in a container that requests or limits neither cpu nor memory', () => {
    const podSpec = { initContainers: [sidecar('cache', { resources: { limits: { 'hugepages-2Mi': '64Mi', 'ephemeral-storage': '1Gi' } } })] };
    const expected = (pod: string) => [
      `${pod}.initContainers[0].resources: has hugepages-2Mi but requests or limits neither cpu nor memory: the API server refuses hugepages without cpu or memory`,
    ];
    expect(problemsOf(pytorchJob({ Worker: replica(1, podSpec) }))).toEqual(expected(WORKER));
    expect(batchProblemsOf(batchJob(podSpec))).toEqual(expected(BATCH));
  });
});

describe('ports within one pod', () => {
  test('the same port in two different pods, and on two protocols in one pod, is fine', () => {
    const ports = [{ name: 'pytorchjob-port', containerPort: 23456, protocol: 'TCP' }, { name: 'metrics', containerPort: 9090, protocol: 'TCP' }];
    const podSpec = { containers: [container({ ports })], initContainers: [sidecar('statsd', { ports: [{ containerPort: 9090, protocol: 'UDP' }] })] };
    expect(problemsOf(jobWithPods(podSpec, 3))).toEqual([]);
    expect(batchProblemsOf(batchJob(podSpec))).toEqual([]);
  });

  test('a regular init container runs before the main containers and may use their ports', () => {
    const podSpec = { containers: [container({ ports: [{ containerPort: 8080 }] })], initContainers: [{ name: 'warmup', image: IMAGE, ports: [{ containerPort: 8080 }] }] };
    expect(problemsOf(jobWithPods(podSpec))).toEqual([]);
    expect(batchProblemsOf(batchJob(podSpec))).toEqual([]);
  });

  test('two containers, or a sidecar and a container, on one port and protocol', () => {
    const podSpec = {
      containers: [
        container({ ports: [{ containerPort: 8080 }, { containerPort: 15001 }] }),
        { name: 'exporter', image: IMAGE, ports: [{ containerPort: 8080, protocol: 'TCP' }] },
      ],
      initContainers: [sidecar('proxy', { ports: [{ containerPort: 15001 }] })],
    };
    const expected = (pod: string) => [
      `${pod}.containers[0].ports[1].containerPort: 15001/TCP is also declared by init container "proxy": ${SHARED_NETWORK}`,
      `${pod}.containers[1].ports[0].containerPort: 8080/TCP is also declared by container "pytorch": ${SHARED_NETWORK}`,
    ];
    expect(problemsOf(pytorchJob({ Worker: replica(2, podSpec) }))).toEqual(expected(WORKER));
    expect(batchProblemsOf(batchJob(podSpec))).toEqual(expected(BATCH));
  });

  test('a regular init container started after a sidecar runs beside it', () => {
    const podSpec = { initContainers: [sidecar('proxy', { ports: [{ containerPort: 3128 }] }), { name: 'fetch', image: IMAGE, ports: [{ containerPort: 3128 }] }] };
    expect(batchProblemsOf(batchJob(podSpec))).toEqual([
      `${BATCH}.initContainers[1].ports[0].containerPort: 3128/TCP is also declared by init container "proxy": ${SHARED_NETWORK}`,
    ]);
  });

  test('a sidecar on the port the operator gives the pytorch container when it declares none', () => {
    const podSpec = { initContainers: [sidecar('proxy', { ports: [{ containerPort: 23456 }] })] };
    expect(problemsOf(pytorchJob({ Worker: replica(1, podSpec) }))).toEqual([
      `${WORKER}.initContainers[0].ports[0].containerPort: 23456/TCP is also the port the operator gives container "pytorch": ${SHARED_NETWORK}`,
    ]);
    const ownPort = { ...podSpec, containers: [container({ ports: [{ name: 'pytorchjob-port', containerPort: 29500 }] })] };
    expect(problemsOf(pytorchJob({ Worker: replica(1, ownPort) }))).toEqual([]);
    // No operator in a single-node Job.
    expect(batchProblemsOf(batchJob(podSpec))).toEqual([]);
  });

  test('with hostNetwork, a hostPort equal to containerPort or left out is fine', () => {
    const podSpec = { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet', containers: [container({ ports: [{ containerPort: 23456, hostPort: 23456 }, { containerPort: 9090 }, { containerPort: 9091, hostPort: 0 }] })] };
    expect(problemsOf(jobWithPods(podSpec))).toEqual([]);
    expect(batchProblemsOf(batchJob(podSpec))).toEqual([]);
  });

  test('with hostNetwork, a hostPort that differs from containerPort', () => {
    const podSpec = { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet', containers: [container({ ports: [{ containerPort: 23456, hostPort: 33456 }] })] };
    const message = 'ports[0].hostPort: 33456 differs from containerPort 23456: with hostNetwork the API server requires hostPort to equal containerPort (or to be left out)';
    expect(problemsOf(pytorchJob({ Worker: replica(2, podSpec) }))).toEqual([`${WORKER}.containers[0].${message}`]);
    expect(batchProblemsOf(batchJob(podSpec))).toEqual([`${BATCH}.containers[0].${message}`]);
    // Without hostNetwork a hostPort maps to another container port: the API server takes it.
    expect(batchProblemsOf(batchJob({ containers: podSpec.containers }))).toEqual([]);
  });
});

describe('hostNetwork in a PyTorchJob needs the cluster\'s DNS', () => {
  const fix = 'use "ClusterFirstWithHostNet"';

  test('with ClusterFirstWithHostNet, or None with nameservers of its own', () => {
    expect(problemsOf(jobWithPods({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }))).toEqual([]);
    expect(problemsOf(jobWithPods({ hostNetwork: true, dnsPolicy: 'None', dnsConfig: { nameservers: ['10.96.0.10'], searches: ['default.svc.cluster.local'] } }))).toEqual([]);
  });

  test('an omitted dnsPolicy, which means ClusterFirst and falls back to the node\'s DNS', () => {
    const message = `(omitted) means "ClusterFirst", which with hostNetwork resolves names with the node's DNS and cannot find the Service "test-master-0": ${fix}`;
    expect(problemsOf(jobWithPods({ hostNetwork: true }, 2))).toEqual([`${MASTER}.dnsPolicy: ${message}`, `${WORKER}.dnsPolicy: ${message}`]);
  });

  test.each(['ClusterFirst', 'Default'])('dnsPolicy %s', (dnsPolicy) => {
    const job = pytorchJob({ Master: replica(1), Worker: replica(1, { hostNetwork: true, dnsPolicy }) });
    expect(problemsOf(job)).toEqual([
      `${WORKER}.dnsPolicy: "${dnsPolicy}" with hostNetwork resolves names with the node's DNS and cannot find the Service "test-master-0": ${fix}`,
    ]);
  });

  test('dnsPolicy None without nameservers', () => {
    const job = pytorchJob({ Master: replica(1, { hostNetwork: true, dnsPolicy: 'None' }), Worker: replica(1) });
    expect(problemsOf(job)).toEqual([
      `${MASTER}.dnsPolicy: "None" without dnsConfig.nameservers leaves the pod no DNS server to find the Service "test-master-0": ${fix}`,
    ]);
  });

  test('an elastic job rendezvouses at the first Worker\'s Service, unless rdzvHost names another host', () => {
    const elastic = { elasticPolicy: { rdzvBackend: 'c10d', minReplicas: 1, maxReplicas: 2 } };
    expect(problemsOf(pytorchJob({ Worker: replica(2, { hostNetwork: true }) }, elastic))).toEqual([
      `${WORKER}.dnsPolicy: (omitted) means "ClusterFirst", which with hostNetwork resolves names with the node's DNS and cannot find the Service "test-worker-0": ${fix}`,
    ]);
    const ownHost = { elasticPolicy: { ...elastic.elasticPolicy, rdzvHost: '10.0.0.5' } };
    expect(problemsOf(pytorchJob({ Worker: replica(2, { hostNetwork: true }) }, ownHost))).toEqual([]);
  });

  test('a Worker-only job without elastic policy gets no address from the operator: its own is not known', () => {
    expect(problemsOf(pytorchJob({ Worker: replica(2, { hostNetwork: true }) }))).toEqual([]);
  });

  test('a single-node Job rendezvouses on localhost and needs no Service', () => {
    expect(batchProblemsOf(batchJob({ hostNetwork: true }))).toEqual([]);
  });
});

describe('required pod anti-affinity that no node layout can satisfy', () => {
  const HOSTNAME = 'kubernetes.io/hostname';
  const ZONE = 'topology.kubernetes.io/zone';
  const jobPods = { matchLabels: { 'training.kubeflow.org/job-name': 'test' } };
  const workerPods = { matchLabels: { 'training.kubeflow.org/job-name': 'test', 'training.kubeflow.org/replica-type': 'worker' } };

  function antiAffinity(labelSelector: Json, topologyKey = HOSTNAME, extra: Json = {}): Json {
    return { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector, topologyKey, ...extra }] } };
  }

  function nodeAffinity(...terms: Json[][]): Json {
    const nodeSelectorTerms = terms.map(matchExpressions => ({ matchExpressions }));
    return { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms } } };
  }

  function spread(workers: number, placement: Json, selector: Json = workerPods, topologyKey = HOSTNAME): Json {
    const { affinity, ...rest } = placement;
    const podSpec = { ...rest, affinity: { ...affinity, ...antiAffinity(selector, topologyKey) } };
    return pytorchJob({ Master: replica(1), Worker: replica(workers, podSpec) });
  }

  test('3 Workers, one per node, pinned to one node', () => {
    expect(problemsOf(spread(3, { nodeSelector: { [HOSTNAME]: 'node-a' } }))).toEqual([
      `${WORKER}.${ANTI_AFFINITY}[0]: requires one pod per "kubernetes.io/hostname", but 3 pods match its selector and spec.nodeSelector allows 1 node value ("node-a"): the pods can never all be scheduled`,
    ]);
  });

  test('3 Workers, one per zone, on 2 zones of the required node affinity (terms ORed)', () => {
    const placement = { affinity: nodeAffinity([{ key: ZONE, operator: 'In', values: ['eu-west-1a'] }], [{ key: ZONE, operator: 'In', values: ['eu-west-1b', 'eu-west-1a'] }]) };
    expect(problemsOf(spread(3, placement, workerPods, ZONE))).toEqual([
      `${WORKER}.${ANTI_AFFINITY}[0]: requires one pod per "topology.kubernetes.io/zone", but 3 pods match its selector and the required node affinity allows 2 node values ("eu-west-1a", "eu-west-1b"): the pods can never all be scheduled`,
    ]);
  });

  test('enough hostname values for every pod', () => {
    const placement = { affinity: nodeAffinity([{ key: HOSTNAME, operator: 'In', values: ['node-a', 'node-b', 'node-c'] }]) };
    expect(problemsOf(spread(3, placement))).toEqual([]);
  });

  test('no node restriction, or one that does not restrict the topology key', () => {
    expect(problemsOf(spread(8, {}))).toEqual([]);
    expect(problemsOf(spread(8, { nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' } }))).toEqual([]);
    // One term without an In on the key lets the pods go to any node.
    const placement = { affinity: nodeAffinity([{ key: HOSTNAME, operator: 'In', values: ['node-a'] }], [{ key: 'pool', operator: 'Exists' }]) };
    expect(problemsOf(spread(3, placement))).toEqual([]);
  });

  test('a selector that matches no pod of the job, or one per index, is not counted', () => {
    const pinned = { nodeSelector: { [HOSTNAME]: 'node-a' } };
    expect(problemsOf(spread(3, pinned, { matchLabels: { app: 'database' } }))).toEqual([]);
    expect(problemsOf(spread(3, pinned, { matchLabels: { 'training.kubeflow.org/replica-index': '0' } }))).toEqual([]);
    expect(problemsOf(spread(3, pinned, { matchExpressions: [{ key: 'training.kubeflow.org/replica-index', operator: 'Exists' }] }))).toEqual([]);
  });

  test('the template\'s own labels and the operator\'s job role count', () => {
    const pinned = { nodeSelector: { [HOSTNAME]: 'node-a' } };
    const team = pytorchJob({
      Master: replica(1),
      Worker: replica(2, { ...pinned, affinity: antiAffinity({ matchLabels: { team: 'vision' } }) }, { team: 'vision' }),
    });
    expect(problemsOf(team)).toEqual([
      `${WORKER}.${ANTI_AFFINITY}[0]: requires one pod per "kubernetes.io/hostname", but 2 pods match its selector and spec.nodeSelector allows 1 node value ("node-a"): the pods can never all be scheduled`,
    ]);
    // Without a Master, Worker 0 carries the job role: only 2 of 3 Workers lack it, and 1 of 3 has it.
    const noRole = { matchExpressions: [{ key: 'training.kubeflow.org/job-role', operator: 'DoesNotExist' }] };
    const workersOnly = (selector: Json) => pytorchJob({ Worker: replica(3, { ...pinned, affinity: antiAffinity(selector) }) });
    expect(problemsOf(workersOnly(noRole))).toEqual([
      `${WORKER}.${ANTI_AFFINITY}[0]: requires one pod per "kubernetes.io/hostname", but 2 pods match its selector and spec.nodeSelector allows 1 node value ("node-a"): the pods can never all be scheduled`,
    ]);
    expect(problemsOf(workersOnly({ matchLabels: { 'training.kubeflow.org/job-role': 'master' } }))).toEqual([]);
  });

  test('a Master and a Worker with the same term, both pinned to one node', () => {
    const podSpec = { nodeSelector: { [HOSTNAME]: 'node-a' }, affinity: antiAffinity(jobPods) };
    expect(problemsOf(jobWithPods(podSpec))).toEqual([
      `${MASTER}.${ANTI_AFFINITY}[0]: requires one pod per "kubernetes.io/hostname", but 2 pods match its selector and spec.nodeSelector allows 1 node value ("node-a"): the pods can never all be scheduled`,
    ]);
    // Pinned to two nodes, one pod each.
    const master = { nodeSelector: { [HOSTNAME]: 'node-a' }, affinity: antiAffinity(jobPods) };
    const worker = { nodeSelector: { [HOSTNAME]: 'node-b' }, affinity: antiAffinity(jobPods) };
    expect(problemsOf(pytorchJob({ Master: replica(1, master), Worker: replica(1, worker) }))).toEqual([]);
  });

  test('replicas with the same term are counted together, each against its own placement too', () => {
    const term = antiAffinity(jobPods);
    const master = { nodeSelector: { [HOSTNAME]: 'node-a' }, affinity: term };
    const worker = { affinity: { ...term, ...nodeAffinity([{ key: HOSTNAME, operator: 'In', values: ['node-a'] }]) } };
    expect(problemsOf(pytorchJob({ Master: replica(1, master), Worker: replica(1, worker) }))).toEqual([
      `${MASTER}.${ANTI_AFFINITY}[0]: requires one pod per "kubernetes.io/hostname", but 2 pods match its selector and the replicas' node placement allows 1 node value ("node-a"): the pods can never all be scheduled`,
    ]);
    // An unrestricted Master can go elsewhere; the pinned Workers cannot share their one node.
    const pinnedWorkers = { nodeSelector: { [HOSTNAME]: 'node-b' }, affinity: term };
    expect(problemsOf(pytorchJob({ Master: replica(1, { affinity: term }), Worker: replica(2, pinnedWorkers) }))).toEqual([
      `${WORKER}.${ANTI_AFFINITY}[0]: requires one pod per "kubernetes.io/hostname", but 2 pods match its selector and spec.nodeSelector allows 1 node value ("node-b"): the pods can never all be scheduled`,
    ]);
  });

  test('match label keys and other namespaces are left undecided', () => {
    const pinned = { nodeSelector: { [HOSTNAME]: 'node-a' } };
    const withExtra = (extra: Json) => pytorchJob({ Worker: replica(3, { ...pinned, affinity: antiAffinity(workerPods, HOSTNAME, extra) }) });
    expect(problemsOf(withExtra({ matchLabelKeys: ['training.kubeflow.org/replica-index'] }))).toEqual([]);
    expect(problemsOf(withExtra({ namespaceSelector: { matchLabels: { team: 'vision' } } }))).toEqual([]);
    expect(problemsOf(withExtra({ namespaces: ['other'] }))).toEqual([]);
  });

  test('a single-node Job has one pod', () => {
    const job = batchJob({ nodeSelector: { [HOSTNAME]: 'node-a' }, affinity: antiAffinity({ matchLabels: { 'batch.kubernetes.io/job-name': 'train' } }) });
    expect(batchProblemsOf(job)).toEqual([]);
  });
});

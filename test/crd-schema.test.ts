import { expectValidPyTorchJob, validatePodTemplateSchema, validatePyTorchJobSchema } from './support/crd-schema';

// Copied from the CRD's int-or-string quantity fields (resources.limits etc.);
// asserting the full message also proves the CRD still carries this pattern.
const QUANTITY_PATTERN = String.raw`^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$`;

const WORKER = '/spec/pytorchReplicaSpecs/Worker';
const WORKER_CONTAINER = `${WORKER}/template/spec/containers/0`;

function replica(replicas: number) {
  return {
    replicas,
    restartPolicy: 'OnFailure',
    template: {
      spec: {
        containers: [{
          name: 'pytorch',
          image: 'pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime',
          resources: { limits: { 'nvidia.com/gpu': 1, 'memory': '16Gi' } },
          volumeMounts: [{ name: 'dshm', mountPath: '/dev/shm' }],
        }],
        volumes: [{ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '16Gi' } }],
      },
    },
  };
}

// A fresh object per test, so one test's mutation cannot leak into another.
function validJob() {
  return {
    apiVersion: 'kubeflow.org/v1',
    kind: 'PyTorchJob',
    metadata: { name: 'train', namespace: 'ml', labels: { app: 'train' } },
    spec: {
      pytorchReplicaSpecs: {
        Master: replica(1),
        Worker: replica(2),
      },
    },
  };
}

describe('validatePyTorchJobSchema', () => {
  test('accepts a minimal Master + Worker job', () => {
    expect(validatePyTorchJobSchema(validJob())).toEqual([]);
  });

  test('rejects a non-integer replica count with its exact path', () => {
    const job = validJob();
    Object.assign(job.spec.pytorchReplicaSpecs.Worker, { replicas: 'two' });
    expect(validatePyTorchJobSchema(job)).toEqual([`${WORKER}/replicas must be integer`]);
  });

  test('rejects a replica count that overflows int32', () => {
    const job = validJob();
    job.spec.pytorchReplicaSpecs.Worker.replicas = 2 ** 31;
    expect(validatePyTorchJobSchema(job)).toEqual([`${WORKER}/replicas must match format "int32"`]);
  });

  test('rejects a runPolicy field placed directly under spec', () => {
    const job = validJob();
    Object.assign(job.spec, { cleanPodPolicy: 'None' });
    expect(validatePyTorchJobSchema(job)).toEqual(["/spec must NOT have additional property 'cleanPodPolicy'"]);
  });

  test('rejects a misspelled container field', () => {
    const job = validJob();
    Object.assign(job.spec.pytorchReplicaSpecs.Worker.template.spec.containers[0], { imagePullPolicyy: 'Always' });
    expect(validatePyTorchJobSchema(job)).toEqual([`${WORKER_CONTAINER} must NOT have additional property 'imagePullPolicyy'`]);
  });

  test('rejects a misspelled metadata field', () => {
    const job = validJob();
    Object.assign(job.metadata, { lables: { app: 'train' } });
    expect(validatePyTorchJobSchema(job)).toEqual(["/metadata must NOT have additional property 'lables'"]);
  });

  test('rejects a spec without pytorchReplicaSpecs', () => {
    const job = { ...validJob(), spec: {} };
    expect(validatePyTorchJobSchema(job)).toEqual(["/spec must have required property 'pytorchReplicaSpecs'"]);
  });

  test('rejects a container without a name', () => {
    const job = validJob();
    const container: { name?: string } = job.spec.pytorchReplicaSpecs.Worker.template.spec.containers[0];
    delete container.name;
    expect(validatePyTorchJobSchema(job)).toEqual([`${WORKER_CONTAINER} must have required property 'name'`]);
  });

  test('rejects a malformed resource quantity', () => {
    const job = validJob();
    job.spec.pytorchReplicaSpecs.Worker.template.spec.containers[0].resources.limits.memory = '16 GiB';
    expect(validatePyTorchJobSchema(job)).toEqual([`${WORKER_CONTAINER}/resources/limits/memory must match pattern "${QUANTITY_PATTERN}"`]);
  });

  test('rejects a malformed emptyDir sizeLimit', () => {
    const job = validJob();
    job.spec.pytorchReplicaSpecs.Worker.template.spec.volumes[0].emptyDir.sizeLimit = '16 GiB';
    expect(validatePyTorchJobSchema(job)).toEqual([`${WORKER}/template/spec/volumes/0/emptyDir/sizeLimit must match pattern "${QUANTITY_PATTERN}"`]);
  });

  test('rejects a quantity that is neither integer nor string', () => {
    const job = validJob();
    Object.assign(job.spec.pytorchReplicaSpecs.Worker.template.spec.containers[0].resources.limits, { cpu: true });
    expect(validatePyTorchJobSchema(job)).toEqual([`${WORKER_CONTAINER}/resources/limits/cpu must be integer,string`]);
  });

  test('rejects a manifest of another kind', () => {
    const job = { ...validJob(), apiVersion: 'kubeflow.org/v2', kind: 'TFJob' };
    expect(validatePyTorchJobSchema(job)).toEqual([
      '/apiVersion must be equal to "kubeflow.org/v1"',
      '/kind must be equal to "PyTorchJob"',
    ]);
  });

  test('reports every error, not just the first', () => {
    const job = validJob();
    Object.assign(job.spec.pytorchReplicaSpecs.Master, { replicas: 'one' });
    Object.assign(job.spec.pytorchReplicaSpecs.Worker, { replicas: 'two' });
    expect(validatePyTorchJobSchema(job)).toEqual([
      '/spec/pytorchReplicaSpecs/Master/replicas must be integer',
      `${WORKER}/replicas must be integer`,
    ]);
  });
});

describe('validatePodTemplateSchema', () => {
  test('accepts a pod template', () => {
    expect(validatePodTemplateSchema(replica(1).template)).toEqual([]);
  });

  test('rejects an unknown pod spec field with a path relative to the template', () => {
    const template = replica(1).template;
    Object.assign(template.spec, { restartPolicyy: 'Never' });
    expect(validatePodTemplateSchema(template)).toEqual(["/spec must NOT have additional property 'restartPolicyy'"]);
  });
});

describe('expectValidPyTorchJob', () => {
  test('returns quietly for a valid job', () => {
    expect(() => expectValidPyTorchJob(validJob())).not.toThrow();
  });

  test('throws an error that lists every problem', () => {
    const job = validJob();
    Object.assign(job.spec, { cleanPodPolicy: 'None' });
    Object.assign(job.spec.pytorchReplicaSpecs.Worker, { replicas: 'two' });
    // An Error argument makes jest compare the whole message, not a substring.
    expect(() => expectValidPyTorchJob(job)).toThrow(new Error([
      'PyTorchJob manifest does not match the kubeflow.org_pytorchjobs.yaml schema:',
      "  - /spec must NOT have additional property 'cleanPodPolicy'",
      `  - ${WORKER}/replicas must be integer`,
    ].join('\n')));
  });
});

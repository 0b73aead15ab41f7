import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { crdPath, crdSchema, expectValidPyTorchJob, validatePodTemplateSchema, validatePyTorchJobSchema } from './support/crd-schema';
import { UnusableInputError } from '../src/rules/problem';
import { BUNDLED_OPERATOR_VERSION, CrdSchema } from '../src/rules/schema';

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

// What `kubectl get pytorchjob train -o yaml` prints for a running job: every field the API server and the
// operator add on the way back, in metadata and status.
const READ_BACK = `
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata:
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"kubeflow.org/v1","kind":"PyTorchJob","metadata":{"name":"train","namespace":"ml"}}
  creationTimestamp: "2025-03-04T10:15:30Z"
  deletionGracePeriodSeconds: 0
  deletionTimestamp: "2025-03-04T11:00:00Z"
  finalizers:
  - example.com/keep-logs
  generation: 2
  labels:
    app: train
  managedFields:
  - apiVersion: kubeflow.org/v1
    fieldsType: FieldsV1
    fieldsV1:
      f:metadata:
        f:annotations:
          .: {}
          f:kubectl.kubernetes.io/last-applied-configuration: {}
      f:spec:
        .: {}
        f:pytorchReplicaSpecs: {}
    manager: kubectl-client-side-apply
    operation: Update
    time: "2025-03-04T10:15:30Z"
  - apiVersion: kubeflow.org/v1
    fieldsType: FieldsV1
    fieldsV1:
      f:status:
        .: {}
        f:conditions: {}
    manager: pytorchjob-controller
    operation: Update
    subresource: status
    time: "2025-03-04T10:15:41Z"
  name: train
  namespace: ml
  ownerReferences:
  - apiVersion: argoproj.io/v1alpha1
    blockOwnerDeletion: true
    controller: true
    kind: Workflow
    name: nightly
    uid: 0b3c6f7e-2d1a-4c59-9a7e-6f1d2c3b4a59
  resourceVersion: "1234567"
  selfLink: /apis/kubeflow.org/v1/namespaces/ml/pytorchjobs/train
  uid: 5f1e2d3c-4b5a-4697-8877-665544332211
spec:
  pytorchReplicaSpecs:
    Master:
      replicas: 1
      restartPolicy: OnFailure
      template:
        metadata:
          labels:
            app: train
        spec:
          containers:
          - image: pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime
            name: pytorch
            resources: {}
  runPolicy:
    cleanPodPolicy: None
    suspend: false
status:
  conditions:
  - lastTransitionTime: "2025-03-04T10:15:30Z"
    lastUpdateTime: "2025-03-04T10:15:30Z"
    message: PyTorchJob train is created.
    reason: PyTorchJobCreated
    status: "True"
    type: Created
  - lastTransitionTime: "2025-03-04T10:15:41Z"
    lastUpdateTime: "2025-03-04T10:15:41Z"
    message: PyTorchJob ml/train is running.
    reason: PyTorchJobRunning
    status: "True"
    type: Running
  lastReconcileTime: "2025-03-04T10:15:41Z"
  replicaStatuses:
    Master:
      active: 1
      selector: training.kubeflow.org/job-name=train,training.kubeflow.org/operator-name=pytorchjob-controller,training.kubeflow.org/replica-type=master
  startTime: "2025-03-04T10:15:31Z"
`;

function readBack() {
  return parse(READ_BACK);
}

describe('objects read back from a cluster', () => {
  test('pass with every field the API server and the operator add', () => {
    expect(validatePyTorchJobSchema(readBack())).toEqual([]);
  });

  test('pass with an unset creationTimestamp written as null', () => {
    const job = validJob();
    Object.assign(job.metadata, { creationTimestamp: null });
    expect(validatePyTorchJobSchema(job)).toEqual([]);
  });

  test('report read-back fields of the wrong type, as ObjectMeta types them', () => {
    const job = readBack();
    Object.assign(job.metadata, { creationTimestamp: 'yesterday', generation: '2', finalizers: 'example.com/keep-logs' });
    delete job.metadata.ownerReferences[0].uid;
    Object.assign(job.metadata.managedFields[0], { manger: 'kubectl' });
    expect(validatePyTorchJobSchema(job)).toEqual([
      '/metadata/creationTimestamp must match format "date-time"',
      '/metadata/generation must be integer',
      '/metadata/finalizers must be array',
      "/metadata/ownerReferences/0 must have required property 'uid'",
      "/metadata/managedFields/0 must NOT have additional property 'manger'",
    ]);
  });

  test('report a misspelled status field', () => {
    const job = readBack();
    Object.assign(job.status, { replicaStatus: job.status.replicaStatuses });
    expect(validatePyTorchJobSchema(job)).toEqual(["/status must NOT have additional property 'replicaStatus'"]);
  });
});

// The API server names the job: `kubectl create` accepts generateName without a name.
function generatedJob() {
  return { ...validJob(), metadata: { generateName: 'train-', namespace: 'ml', labels: { app: 'train' } } };
}

test('generateName without a name passes the schema', () => {
  expect(validatePyTorchJobSchema(generatedJob())).toEqual([]);
});

describe('CrdSchema.bundled()', () => {
  const bundled = CrdSchema.bundled();

  test(`is the schema of operator ${BUNDLED_OPERATOR_VERSION}, loaded once`, () => {
    expect(BUNDLED_OPERATOR_VERSION).toBe('v1.9.4');
    expect(CrdSchema.bundled()).toBe(bundled);
  });

  const misspelledMetadata = () => Object.assign(validJob(), { metadata: { name: 'train', lables: { app: 'train' } } });
  const unknownSpecField = () => {
    const job = validJob();
    Object.assign(job.spec, { cleanPodPolicy: 'None' });
    return job;
  };
  const badReplicas = () => {
    const job = validJob();
    Object.assign(job.spec.pytorchReplicaSpecs.Worker, { replicas: 'two' });
    job.spec.pytorchReplicaSpecs.Master.template.spec.containers[0].resources.limits.memory = '16 GiB';
    return job;
  };
  const cases: Array<[string, () => unknown, number]> = [
    ['a Master + Worker job', validJob, 0],
    ['a job read back with kubectl get -o yaml', readBack, 0],
    ['generateName without a name', generatedJob, 0],
    ['a misspelled metadata field', misspelledMetadata, 1],
    ['an unknown spec field', unknownSpecField, 1],
    ['a wrong replica count and quantity in the pod templates', badReplicas, 2],
    ['a manifest of another kind', () => ({ ...validJob(), kind: 'TFJob' }), 1],
    ['not an object', () => 'PyTorchJob', 1],
  ];
  test.each(cases)('finds in %s what the CRD compiled at run time finds', (_, manifest, count) => {
    const found = bundled.checkPyTorchJob(manifest());
    expect(found).toEqual(crdSchema().checkPyTorchJob(manifest()));
    expect(found).toHaveLength(count);
  });

  test('checks a pod template like the CRD compiled at run time', () => {
    const template = replica(1).template;
    Object.assign(template.spec, { restartPolicyy: 'Never' });
    Object.assign(template.spec.containers[0], { image: 42 });
    const found = bundled.checkPodTemplate(template, '/spec/template');
    expect(found).toEqual(crdSchema().checkPodTemplate(template, '/spec/template'));
    expect(found.map(p => `${p.path} ${p.message}`)).toEqual([
      "/spec/template/spec must NOT have additional property 'restartPolicyy'",
      '/spec/template/spec/containers/0/image must be string',
    ]);
  });
});

describe('CrdSchema.fromFile', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'kfpytorch-crd-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // The vendored CRD with one pattern replaced: the file reads and parses, its schema does not compile.
  function crdWith(name: string, from: string, to: string): string {
    const text = readFileSync(crdPath(), 'utf8');
    expect(text).toContain(from);
    const file = join(dir, name);
    writeFileSync(file, text.replace(from, to));
    return file;
  }

  function errorOf(file: string): unknown {
    try {
      CrdSchema.fromFile(file);
    } catch (error) {
      return error;
    }
    return undefined;
  }

  test('turns a schema that does not compile into one line naming the file', () => {
    const file = crdWith('bad-pattern.yaml', 'pattern: ^(\\+|-)?', 'pattern: ^((\\+|-)?');
    expect(errorOf(file)).toStrictEqual(new UnusableInputError(
      `${file}: its v1 schema does not compile: Invalid regular expression: /^((\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$/u: Unterminated group`,
    ));
  });

  test('names the first place where a schema is not a schema', () => {
    const file = crdWith('bad-type.yaml', 'type: integer', 'type: whole-number');
    expect(errorOf(file)).toStrictEqual(new UnusableInputError(
      `${file}: its v1 schema does not compile: openAPIV3Schema/properties/spec/properties/elasticPolicy/properties/maxReplicas/type must be equal to one of the allowed values`,
    ));
  });

  test('names the file of a CRD without a pod template', () => {
    const file = crdWith('no-template.yaml', '                    template:\n', '                    templates:\n');
    expect(errorOf(file)).toStrictEqual(new UnusableInputError(
      `${file}: is not the PyTorchJob CRD: no PodTemplateSpec schema at properties.spec.properties.pytorchReplicaSpecs.additionalProperties.properties.template`,
    ));
  });
});

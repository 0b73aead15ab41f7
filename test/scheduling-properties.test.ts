/**
 * Property tests of `Scheduling` (Kueue, Volcano, coscheduling, KAI) on every kind of job: a PyTorchJob, the same
 * definition for Trainer v2.3, an elastic PyTorchJob of a fixed or ranged node count, and a single-node Job. Every
 * valid case synthesizes objects that pass their CRD (strict; CEL for Trainer v2) and the rules, as `kfpytorch
 * validate` checks them, with the scheduling where its controller reads it; every invalid gang or queue name is refused
 * where the job is built, naming the field and the value, so that nothing is ever written. A failure prints its seed
 * and path: replay it with FC_SEED and FC_PATH.
 */
import { Chart, Duration, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { Elastic, Entrypoint, JobTarget, KueueTopology, Nnodes, PyTorchElasticJob, PyTorchJob, Scheduling, Worker } from '../src';
import { crdSchema } from './support/crd-schema';
import {
  COSCHEDULING_SCHEDULER_NAME, KAI_QUEUE_LABEL, KUEUE_PRIORITY_LABEL, KUEUE_QUEUE_LABEL, KUEUE_TOPOLOGY_ANNOTATIONS, VOLCANO_SCHEDULER_NAME,
} from '../src/rules/facts';
import { Json, formatProblem } from '../src/rules/problem';
import { runtimeFinder } from '../src/rules/trainjob';
import { checkManifest } from '../src/tools/validate';

const IMAGE = 'ghcr.io/example/train:2.4.0';
const RUNS = Math.max(300, Number(process.env.FC_NUM_RUNS ?? 0));
const TIMEOUT_MS = 120_000;

function params(seed: number): fc.Parameters<unknown> {
  const path = process.env.FC_PATH;
  return {
    seed: process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : seed,
    numRuns: RUNS,
    ...path !== undefined ? { path, endOnFailure: true } : {},
  };
}

/** The job the scheduling is given to: its kind, and the node counts that decide the gang. */
type Shape =
  | { readonly kind: 'pytorchjob' | 'trainjob'; readonly workers: number }
  | { readonly kind: 'elastic'; readonly min: number; readonly max: number }
  | { readonly kind: 'single' };

/** The scheduling of a case, as plain data (fast-check prints it when a case fails). */
type SchedulingCfg =
  | { readonly kind: 'kueue'; readonly queueName: string; readonly priorityClass?: string; readonly zone?: 'required' | 'preferred' }
  | { readonly kind: 'volcano'; readonly queue?: string; readonly minAvailable?: number }
  | { readonly kind: 'coscheduling'; readonly minAvailable?: number; readonly timeoutSeconds?: number }
  | { readonly kind: 'kai'; readonly queue: string };

const ZONE = 'topology.kubernetes.io/zone';

/** The pods a job starts at most, and the fewest a gang may wait for (every pod, or the elastic minimum). */
function podsOf(shape: Shape): { pods: number; minimum: number } {
  if (shape.kind === 'elastic') return { pods: shape.max, minimum: shape.min };
  if (shape.kind === 'single') return { pods: 1, minimum: 1 };
  // The Master and the Workers of a PyTorchJob; the same nodes for Trainer v2.3.
  return { pods: shape.workers + 1, minimum: shape.workers + 1 };
}

function buildScheduling(cfg: SchedulingCfg): Scheduling {
  switch (cfg.kind) {
    case 'kueue': return Scheduling.kueue({
      queueName: cfg.queueName,
      priorityClass: cfg.priorityClass,
      topology: cfg.zone === undefined ? undefined : cfg.zone === 'required' ? KueueTopology.required(ZONE) : KueueTopology.preferred(ZONE),
    });
    case 'volcano': return Scheduling.volcano({ queue: cfg.queue, minAvailable: cfg.minAvailable });
    case 'coscheduling': return Scheduling.coscheduling({
      minAvailable: cfg.minAvailable,
      scheduleTimeout: cfg.timeoutSeconds === undefined ? undefined : Duration.seconds(cfg.timeoutSeconds),
    });
    case 'kai': return Scheduling.kai({ queue: cfg.queue });
  }
}

function buildJob(chart: Chart, shape: Shape, scheduling: Scheduling): void {
  if (shape.kind === 'elastic' || shape.kind === 'single') {
    const nnodes = shape.kind === 'single' ? Nnodes.fixed(1) : shape.min === shape.max ? Nnodes.fixed(shape.min) : Nnodes.range(shape.min, shape.max);
    new PyTorchElasticJob(chart, 'job', {
      metadata: { name: 'bert' },
      image: IMAGE,
      entrypoint: Entrypoint.script('train.py'),
      elastic: new Elastic({ nnodes }),
      scheduling,
    });
    return;
  }
  new PyTorchJob(chart, 'job', {
    metadata: { name: 'bert' },
    image: IMAGE,
    command: ['torchrun', 'train.py'],
    worker: new Worker({ replicas: shape.workers }),
    scheduling,
    target: shape.kind === 'trainjob' ? JobTarget.trainerV2() : undefined,
  });
}

/** Synthesizes the chart; every object must pass its CRD and the rules, as `kfpytorch validate` checks them. */
function synthChecked(chart: Chart): Json[] {
  const manifests: Json[] = Testing.synth(chart);
  const findRuntime = runtimeFinder(manifests);
  for (const manifest of manifests) expect(checkManifest(manifest, crdSchema(), findRuntime)?.map(formatProblem)).toEqual([]);
  return manifests;
}

const labelValue = fc.stringMatching(/^[A-Za-z0-9]([-A-Za-z0-9._]{0,30}[A-Za-z0-9])?$/);
const dnsLabel = fc.stringMatching(/^[a-z]([-a-z0-9]{0,20}[a-z0-9])?$/);
/** Not a label value: a space or a slash inside, a leading dash, empty, or longer than 63 characters. */
const notLabelValue = fc.oneof(
  fc.stringMatching(/^[a-z]{1,8}[ /][a-z]{1,8}$/),
  fc.stringMatching(/^-[a-z]{1,8}$/),
  fc.constant(''),
  fc.constant(`q${'x'.repeat(63)}`),
);

const shape: fc.Arbitrary<Shape> = fc.oneof(
  fc.record({ kind: fc.constantFrom('pytorchjob' as const, 'trainjob' as const), workers: fc.integer({ min: 1, max: 5 }) }),
  fc.integer({ min: 2, max: 4 }).chain(min => fc.record({ kind: fc.constant('elastic' as const), min: fc.constant(min), max: fc.integer({ min, max: 6 }) })),
);

/** A gang size the job can meet: from its minimum to its pods, or left to the default. */
const minAvailable = (s: Shape) => fc.option(fc.integer({ min: podsOf(s).minimum, max: podsOf(s).pods }), { nil: undefined });

/** A scheduling this job takes: Kueue on a fixed node count only, a scheduler without a gang on one pod. */
function validScheduling(s: Shape): fc.Arbitrary<SchedulingCfg> {
  if (s.kind === 'single') {
    return fc.oneof(
      fc.record({ kind: fc.constant('kueue' as const), queueName: labelValue, priorityClass: fc.option(dnsLabel, { nil: undefined }) }, { requiredKeys: ['kind', 'queueName'] }),
      fc.constant({ kind: 'volcano' as const }),
      fc.constant({ kind: 'coscheduling' as const }),
      fc.record({ kind: fc.constant('kai' as const), queue: labelValue }),
    );
  }
  const kueue = fc.record({
    kind: fc.constant('kueue' as const),
    queueName: labelValue,
    priorityClass: fc.option(dnsLabel, { nil: undefined }),
    zone: fc.option(fc.constantFrom('required' as const, 'preferred' as const), { nil: undefined }),
  }, { requiredKeys: ['kind', 'queueName'] });
  const gangs = [
    fc.record({ kind: fc.constant('volcano' as const), queue: fc.option(labelValue, { nil: undefined }), minAvailable: minAvailable(s) }),
    fc.record({ kind: fc.constant('coscheduling' as const), minAvailable: minAvailable(s), timeoutSeconds: fc.option(fc.integer({ min: 1, max: 3600 }), { nil: undefined }) }),
    fc.record({ kind: fc.constant('kai' as const), queue: labelValue }),
  ];
  const ranged = s.kind === 'elastic' && s.min < s.max;
  return ranged ? fc.oneof(...gangs) : fc.oneof(kueue, ...gangs);
}

describe('Scheduling on every kind of job', () => {
  test('valid scheduling: every object passes its CRD and the rules, the scheduling where its controller reads it', () => {
    const anyShape = fc.oneof(shape, fc.constant<Shape>({ kind: 'single' }));
    const scheduled = anyShape.chain(s => fc.tuple(fc.constant(s), validScheduling(s)));
    fc.assert(fc.property(scheduled, ([s, cfg]) => {
      const chart = Testing.chart();
      buildJob(chart, s, buildScheduling(cfg));
      const manifests = synthChecked(chart);
      const job = manifests.find(m => m.kind !== 'TrainingRuntime')!;
      const runtime = manifests.find(m => m.kind === 'TrainingRuntime');
      expect(manifests.map(m => m.kind)).toEqual(s.kind === 'trainjob' ? ['TrainingRuntime', 'TrainJob'] : s.kind === 'single' ? ['Job'] : ['PyTorchJob']);
      const templates: Json[] = runtime ? runtime.spec.template.spec.replicatedJobs.map((r: Json) => r.template.spec.template)
        : s.kind === 'single' ? [job.spec.template] : Object.values(job.spec.pytorchReplicaSpecs).map((r: any) => r.template);
      switch (cfg.kind) {
        case 'kueue':
          expect(job.metadata.labels[KUEUE_QUEUE_LABEL]).toBe(cfg.queueName);
          expect(job.metadata.labels[KUEUE_PRIORITY_LABEL]).toBe(cfg.priorityClass);
          for (const template of templates) {
            expect(template.metadata?.annotations).toEqual(cfg.zone === undefined ? undefined : { [KUEUE_TOPOLOGY_ANNOTATIONS[cfg.zone]]: ZONE });
          }
          break;
        case 'volcano':
        case 'coscheduling':
          if (runtime) {
            expect(Object.keys(runtime.spec.podGroupPolicy)).toEqual([cfg.kind]);
          } else if (s.kind !== 'single') {
            expect(job.spec.runPolicy.schedulingPolicy.minAvailable).toBe(cfg.minAvailable ?? podsOf(s).minimum);
          }
          for (const template of templates) expect(template.spec.schedulerName).toBe(cfg.kind === 'volcano' ? VOLCANO_SCHEDULER_NAME : COSCHEDULING_SCHEDULER_NAME);
          break;
        case 'kai':
          expect(job.metadata.labels[KAI_QUEUE_LABEL]).toBe(cfg.queue);
          for (const template of templates) expect(template.metadata.labels[KAI_QUEUE_LABEL]).toBe(cfg.queue);
          break;
      }
    }), params(0x7363686564));
  }, TIMEOUT_MS);

  test('a gang the job cannot meet (any gang on one pod), or a queue that is not a label value, is refused where the job is built', () => {
    const badGang = shape.chain(s => {
      const { pods, minimum } = podsOf(s);
      // Below the minimum, above the pods, or a fraction from the minimum up.
      const fraction = fc.integer({ min: minimum * 10, max: pods * 10 + 9 }).filter(tenths => tenths % 10 !== 0).map(tenths => tenths / 10);
      const size = fc.oneof(fc.integer({ min: -3, max: minimum - 1 }), fc.integer({ min: pods + 1, max: pods + 5 }), fraction);
      return fc.tuple(fc.constant(s), fc.constantFrom('volcano' as const, 'coscheduling' as const), size);
    });
    fc.assert(fc.property(badGang, ([s, kind, size]) => {
      const { pods, minimum } = podsOf(s);
      const chart = Testing.chart();
      expect(() => buildJob(chart, s, buildScheduling({ kind, minAvailable: size })))
        .toThrow(`scheduling.minAvailable: ${size} must be a whole number from ${minimum} to ${pods}: `);
      expect(Testing.synth(chart)).toEqual([]);
    }), params(0x67616e67));

    const single = fc.tuple(fc.constantFrom('volcano' as const, 'coscheduling' as const), fc.integer({ min: -2, max: 4 }));
    fc.assert(fc.property(single, ([kind, size]) => {
      const chart = Testing.chart();
      expect(() => buildJob(chart, { kind: 'single' }, buildScheduling({ kind, minAvailable: size })))
        .toThrow('scheduling.minAvailable: cannot be honoured by a single-node job, which is a batch/v1 Job of one pod: ');
      expect(Testing.synth(chart)).toEqual([]);
    }), params(0x73696e67));

    const withSingle = fc.oneof(shape.filter(s => s.kind !== 'elastic' || s.min === s.max), fc.constant<Shape>({ kind: 'single' }));
    const badQueue = fc.tuple(withSingle, fc.constantFrom('kueue' as const, 'kai' as const), notLabelValue);
    fc.assert(fc.property(badQueue, ([s, kind, queue]) => {
      const chart = Testing.chart();
      const cfg: SchedulingCfg = kind === 'kueue' ? { kind, queueName: queue } : { kind, queue };
      expect(() => buildJob(chart, s, buildScheduling(cfg)))
        .toThrow(`scheduling.${kind === 'kueue' ? 'queueName' : 'queue'}: ${JSON.stringify(queue)} is not a label value: `);
      expect(Testing.synth(chart)).toEqual([]);
    }), params(0x71756575));
  }, TIMEOUT_MS);
});

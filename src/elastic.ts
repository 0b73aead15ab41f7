import { Duration } from 'cdk8s';
import { Metric } from 'cdk8s-plus-28';
import { NprocPerNode } from './nproc-per-node';
import { formatProblem } from './rules/problem';
import { checkRdzvConf } from './rules/torchrun';
import { RunPolicy } from './run-policy';
import { StartMethod } from './start-method';

const WHOLE_NUMBER = /^\d+$/;

/**
 * How many nodes (pods) torchrun waits for: a fixed count, or a range within which the job is elastic.
 *
 * @see https://pytorch.org/docs/stable/elastic/run.html#elastic-min-1-max-4-tolerates-up-to-3-membership-changes-or-failures
 */
export class Nnodes {
  /**
   * Exactly `count` nodes.
   * @param count at least 1
   */
  public static fixed(count: number): Nnodes {
    return new Nnodes(count, count);
  }

  /**
   * Between `min` and `max` nodes: the job starts with `min` and admits more up to `max`.
   * @param min at least 1
   * @param max at least `min`
   */
  public static range(min: number, max: number): Nnodes {
    return new Nnodes(min, max);
  }

  /**
   * torchrun's own text form: `"2"` or `"2:4"`.
   * @param text the value of torchrun's `--nnodes`
   */
  public static parse(text: string): Nnodes {
    const parts = text.split(':');
    if (parts.length > 2) {
      throw new Error(`nnodes: ${JSON.stringify(text)} is not in "MIN:MAX" format`);
    }
    const bad = parts.find(part => !WHOLE_NUMBER.test(part.trim()));
    if (bad !== undefined) {
      throw new Error(`nnodes: ${JSON.stringify(text)} is not in "MIN:MAX" format: ${JSON.stringify(bad)} is not a whole number`);
    }
    const [min, max = min] = parts.map(part => Number(part.trim()));
    return new Nnodes(min, max);
  }

  private constructor(
    /** The fewest nodes the job runs with. */
    public readonly min: number,
    /** The most nodes the job runs with. */
    public readonly max: number,
  ) {}

  /** torchrun's text form. */
  public toString(): string {
    return this.min === this.max ? String(this.min) : `${this.min}:${this.max}`;
  }
}

/**
 * Settings of torchrun (torch elastic), after the Flyte plugin's `Elastic`.
 */
export interface ElasticProps {
  /**
   * Number of nodes (pods). One node runs as a `batch/v1` Job with `torchrun --standalone`;
   * more run as a PyTorchJob with an elastic policy.
   * @default Nnodes.fixed(1)
   * @see https://pytorch.org/docs/stable/elastic/run.html
   */
  readonly nnodes?: Nnodes;

  /**
   * Training processes per node.
   * @default NprocPerNode.count(1)
   * @see https://pytorch.org/docs/stable/elastic/run.html
   */
  readonly nprocPerNode?: NprocPerNode;

  /**
   * How torchrun starts the processes.
   * @default StartMethod.SPAWN
   * @see https://pytorch.org/docs/stable/elastic/run.html
   */
  readonly startMethod?: StartMethod;

  /**
   * How often torchrun checks its processes; whole seconds.
   * @default Duration.seconds(5)
   * @see https://pytorch.org/docs/stable/elastic/run.html
   */
  readonly monitorInterval?: Duration;

  /**
   * How many times torchrun restarts the whole process group after a failure.
   * @default 0
   * @see https://pytorch.org/docs/stable/elastic/run.html
   */
  readonly maxRestarts?: number;

  /**
   * Rendezvous settings (`--rdzv_conf`). A map given here replaces the default, as in flytekit.
   * Keys and values may not contain `,`, and keys may not contain `=`: torchrun could not split them.
   * @default { timeout: '900', join_timeout: '900' }
   * @see https://pytorch.org/docs/stable/elastic/rendezvous.html
   */
  readonly rdzvConfigs?: { [key: string]: string };

  /**
   * Autoscaling of a multi-node job: the operator creates a HorizontalPodAutoscaler that moves the Worker count
   * between the node range's minimum and maximum on these metrics (cdk8s-plus `Metric`s).
   * @default - no autoscaler: the job runs with the maximum
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/user-guides/pytorch/#elastic-training
   */
  readonly metrics?: Metric[];

  /**
   * Cleanup, retries, deadlines and suspension (queues and gang scheduling are the job's `scheduling`). A single-node job, a `batch/v1` Job,
   * takes only the backoff limit, deadline, TTL and suspension.
   * @default - several nodes: clean-pod policy None, no deadline, no backoff limit; one node: backoff limit 6 (Kubernetes' own), no deadline
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/reference/distributed-training/
   */
  readonly runPolicy?: RunPolicy;
}

/**
 * torchrun settings of a `PyTorchElasticJob`.
 */
export class Elastic {
  /** The rendezvous settings used when none are given: 15 minutes to gather every node. */
  public static readonly DEFAULT_RDZV_CONFIGS: { [key: string]: string } = Object.freeze({ timeout: '900', join_timeout: '900' });

  /** Number of nodes. */
  public readonly nnodes: Nnodes;
  /** Training processes per node. */
  public readonly nprocPerNode: NprocPerNode;
  /** How torchrun starts the processes. */
  public readonly startMethod: StartMethod;
  /** How often torchrun checks its processes. */
  public readonly monitorInterval: Duration;
  /** How many times torchrun restarts the process group. */
  public readonly maxRestarts: number;
  /** Rendezvous settings. */
  public readonly rdzvConfigs: { [key: string]: string };
  /** The run policy. */
  public readonly runPolicy?: RunPolicy;
  /** Autoscaling metrics. */
  public readonly metrics?: Metric[];

  public constructor(props: ElasticProps = {}) {
    this.nnodes = props.nnodes ?? Nnodes.fixed(1);
    this.nprocPerNode = props.nprocPerNode ?? NprocPerNode.count(1);
    this.startMethod = props.startMethod ?? StartMethod.SPAWN;
    this.monitorInterval = props.monitorInterval ?? Duration.seconds(5);
    this.maxRestarts = props.maxRestarts ?? 0;
    // A frozen copy: the settings were checked here, and one job's map must not change another's.
    this.rdzvConfigs = Object.freeze({ ...props.rdzvConfigs ?? Elastic.DEFAULT_RDZV_CONFIGS });
    // Checked here, by the rule the manifests are checked with: once joined into one string, a bad key cannot be told apart.
    const [problem] = checkRdzvConf(Object.entries(this.rdzvConfigs).map(([key, value]) => ({ key, value })), 'rdzvConfigs');
    if (problem) throw new Error(formatProblem(problem));
    this.runPolicy = props.runPolicy;
    this.metrics = props.metrics;
  }

  /** Whether the job fits on one node, and so runs as a `batch/v1` Job. */
  public get isSingleNode(): boolean {
    return this.nnodes.max <= 1;
  }
}

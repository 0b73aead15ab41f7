import { Duration } from 'cdk8s';
import { Resources } from './resources';
import { COSCHEDULING_SCHEDULER_NAME, KAI_SCHEDULER_NAME, VOLCANO_SCHEDULER_NAME } from './rules/facts';

/**
 * Where Kueue's topology-aware scheduling places a pod set: all its pods within one domain of a node-label level
 * (a rack, a block), as a requirement or a preference, or anywhere.
 *
 * @see https://kueue.sigs.k8s.io/docs/concepts/topology_aware_scheduling/
 */
export class KueueTopology {
  /**
   * Every pod of the pod set in one domain of `level`, or the job is not admitted.
   * @param level a node label of the cluster's Topology, such as `cloud.google.com/gce-topology-block`
   */
  public static required(level: string, slices?: KueueTopologySlices): KueueTopology {
    return new KueueTopology('required', level, slices);
  }

  /**
   * The pods in as few domains of `level` as Kueue can manage.
   * @param level a node label of the cluster's Topology
   */
  public static preferred(level: string, slices?: KueueTopologySlices): KueueTopology {
    return new KueueTopology('preferred', level, slices);
  }

  /** Any placement, while still counted by topology-aware scheduling (`podset-unconstrained-topology`). */
  public static unconstrained(): KueueTopology {
    return new KueueTopology('unconstrained', undefined, undefined);
  }

  private constructor(
    /** `required`, `preferred` or `unconstrained`: the annotation Kueue reads. */
    public readonly mode: string,
    /** The node label whose domains hold the pods; undefined when unconstrained. */
    public readonly level: string | undefined,
    /** Slices of the pod set that each must fit one domain of a finer level. */
    public readonly slices: KueueTopologySlices | undefined,
  ) {}
}

/**
 * Slices of a pod set, each of which Kueue must fit into one domain of a finer topology level.
 */
export interface KueueTopologySlices {
  /**
   * The node label whose domains each slice fits into (`podset-slice-required-topology`).
   * @see https://kueue.sigs.k8s.io/docs/concepts/topology_aware_scheduling/
   */
  readonly sliceLevel: string;

  /**
   * Pods per slice (`podset-slice-size`); must divide the pod set's pod count.
   * @see https://kueue.sigs.k8s.io/docs/concepts/topology_aware_scheduling/
   */
  readonly sliceSize: number;
}

/**
 * A job that waits in a Kueue LocalQueue until its quota admits it.
 */
export interface KueueOptions {
  /**
   * The LocalQueue, written as the job's `kueue.x-k8s.io/queue-name` label.
   * @see https://kueue.sigs.k8s.io/docs/tasks/run/kubeflow/pytorchjobs/
   */
  readonly queueName: string;

  /**
   * The WorkloadPriorityClass that orders the job in its queue (`kueue.x-k8s.io/priority-class`).
   * @default - the priority of the pods' priority class
   * @see https://kueue.sigs.k8s.io/docs/concepts/workload_priority_class/
   */
  readonly priorityClass?: string;

  /**
   * Topology-aware placement of every pod set (Master and Worker).
   * @default - no topology annotations
   * @see https://kueue.sigs.k8s.io/docs/concepts/topology_aware_scheduling/
   */
  readonly topology?: KueueTopology;

  /**
   * Topology-aware placement of the Master's pod set, over `topology`.
   * @default - `topology`
   * @see https://kueue.sigs.k8s.io/docs/concepts/topology_aware_scheduling/
   */
  readonly masterTopology?: KueueTopology;

  /**
   * Topology-aware placement of the Workers' pod set, over `topology`.
   * @default - `topology`
   * @see https://kueue.sigs.k8s.io/docs/concepts/topology_aware_scheduling/
   */
  readonly workerTopology?: KueueTopology;

  /**
   * Places the Master and the Workers as one unit, in one flavor and topology domain (`podset-group-name`).
   * @default false
   * @see https://kueue.sigs.k8s.io/docs/concepts/topology_aware_scheduling/
   */
  readonly groupPodSets?: boolean;
}

/**
 * Gang scheduling with Volcano: the operator creates a PodGroup, and no pod starts before `minAvailable` can.
 */
export interface VolcanoOptions {
  /**
   * The Volcano queue; immutable once the job exists.
   * @default - Volcano's `default` queue
   * @see https://volcano.sh/en/docs/queue/
   */
  readonly queue?: string;

  /**
   * Pods that must be schedulable together.
   * @default - every pod; for an elastic job, its minimum node count
   * @see https://volcano.sh/en/docs/podgroup/
   */
  readonly minAvailable?: number;

  /**
   * The PodGroup's priority class.
   * @default - none
   * @see https://volcano.sh/en/docs/podgroup/
   */
  readonly priorityClass?: string;

  /**
   * What the whole gang needs before it starts.
   * @default - computed by the operator from the first `minAvailable` pods
   * @see https://www.kubeflow.org/docs/components/trainer/legacy-v1/user-guides/job-scheduling/
   */
  readonly minResources?: Resources;
}

/**
 * Gang scheduling with the scheduler-plugins coscheduling plugin, run as a second scheduler.
 */
export interface CoschedulingOptions {
  /**
   * The scheduler's name, which the pods ask for; also what the operator's `--gang-scheduler-name` must be.
   * @default 'scheduler-plugins-scheduler' (the name its Helm chart installs)
   * @see https://github.com/kubernetes-sigs/scheduler-plugins/blob/master/doc/install.md
   */
  readonly schedulerName?: string;

  /**
   * Pods that must be schedulable together.
   * @default - every pod; for an elastic job, its minimum node count
   * @see https://github.com/kubernetes-sigs/scheduler-plugins/blob/master/pkg/coscheduling/README.md
   */
  readonly minAvailable?: number;

  /**
   * How long the scheduler waits for the whole gang before it gives up on this attempt; whole seconds.
   * @default - the scheduler's default
   * @see https://github.com/kubernetes-sigs/scheduler-plugins/blob/master/pkg/coscheduling/README.md
   */
  readonly scheduleTimeout?: Duration;
}

/**
 * A job that NVIDIA's KAI scheduler queues and gang-schedules (its pod grouper groups the job's pods).
 */
export interface KaiOptions {
  /**
   * The KAI Queue, written as the `kai.scheduler/queue` label of the job and its pods.
   * @see https://github.com/NVIDIA/KAI-Scheduler/blob/main/docs/quickstart/README.md
   */
  readonly queue: string;
}

/**
 * Which controller queues the job or starts its pods all at once: Kueue, Volcano, scheduler-plugins coscheduling
 * or KAI. Each factory writes exactly the labels, annotations and fields that controller reads.
 */
export class Scheduling {
  /**
   * Kueue admits the job from a LocalQueue. Kueue's webhook suspends the job when it is created and, with
   * MultiKueue, sets `managedBy` itself: neither is written. An elastic node range is refused: Kueue does not
   * admit elastic PyTorchJobs.
   */
  public static kueue(options: KueueOptions): Scheduling {
    return new Scheduling(SchedulerKind.KUEUE, undefined, { kueue: options });
  }

  /**
   * Volcano gang-schedules the pods (`schedulerName: volcano`, `runPolicy.schedulingPolicy`); the operator must run
   * with `--gang-scheduler-name=volcano`.
   */
  public static volcano(options: VolcanoOptions = {}): Scheduling {
    return new Scheduling(SchedulerKind.VOLCANO, VOLCANO_SCHEDULER_NAME, { gang: options });
  }

  /**
   * scheduler-plugins coscheduling gang-schedules the pods; the operator must run with
   * `--gang-scheduler-name=<its scheduler name>`.
   */
  public static coscheduling(options: CoschedulingOptions = {}): Scheduling {
    return new Scheduling(SchedulerKind.COSCHEDULING, options.schedulerName ?? COSCHEDULING_SCHEDULER_NAME, { gang: options });
  }

  /** KAI queues and gang-schedules the pods (`schedulerName: kai-scheduler`, its queue label). */
  public static kai(options: KaiOptions): Scheduling {
    return new Scheduling(SchedulerKind.KAI, KAI_SCHEDULER_NAME, { kai: options });
  }

  private constructor(
    /** Which controller. */
    public readonly kind: SchedulerKind,
    /** The scheduler every pod asks for; undefined when the cluster's default scheduler places the pods (Kueue). */
    public readonly schedulerName: string | undefined,
    /**
     * The factory's options, by what reads them.
     * @internal
     */
    public readonly _options: SchedulingSettings,
  ) {}
}

/**
 * What a `Scheduling` was given, by the part of the manifest that carries it.
 * @internal
 */
export interface SchedulingSettings {
  readonly kueue?: KueueOptions;
  /** Volcano's or coscheduling's: `runPolicy.schedulingPolicy`. */
  readonly gang?: VolcanoOptions & Omit<CoschedulingOptions, 'schedulerName'>;
  readonly kai?: KaiOptions;
}

/** The controllers `Scheduling` targets. */
export enum SchedulerKind {
  /** Kueue (kueue.x-k8s.io). */
  KUEUE = 'kueue',
  /** Volcano (volcano.sh). */
  VOLCANO = 'volcano',
  /** scheduler-plugins coscheduling (scheduling.x-k8s.io). */
  COSCHEDULING = 'coscheduling',
  /** NVIDIA KAI scheduler. */
  KAI = 'kai',
}

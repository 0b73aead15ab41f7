import { PodOptions } from '../pod-options';

/** An environment variable as written to a container. */
export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: unknown;
}

/** A container port as written to a container. */
export interface ContainerPortJson {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: string;
  readonly hostPort?: number;
  readonly hostIP?: string;
}

/**
 * One kind of pod of a job, with every option resolved: what each output (a PyTorchJob replica, a Job's template,
 * next a TrainJob's runtime) writes, whatever launched it.
 */
export interface PodModel {
  /** The job's options with the replica's and the amendments merged over them. */
  readonly options: PodOptions;
  /** The training container's image. */
  readonly image: string;
  /** The training container's command, when a launcher replaces the user's. */
  readonly command?: string[];
  /** The training container's arguments, when a launcher replaces the user's. */
  readonly args?: string[];
  /** Variables set after the user's, unless the user set them. */
  readonly defaultEnv?: EnvVar[];
  /** Ports of the training container. */
  readonly ports?: ContainerPortJson[];
  /** The pod's restart policy, which a PyTorchJob leaves to the operator and a Job requires. */
  readonly restartPolicy?: string;
  /** The training container's name, which the controller looks it up by. */
  readonly containerName?: string;
  /** Labels that the controller puts on every pod of this job, and nothing else does: "the pods of this job". */
  readonly ownPods: { readonly [label: string]: string };
}

/**
 * A PodModel with every field written, in one order. The renderers read thousands of them in a synth: objects of one
 * shape are read by one compiled path, where models made by different callers, each with its own fields, are not.
 */
export function podModel(fields: PodModel): PodModel {
  return {
    options: fields.options,
    image: fields.image,
    command: fields.command,
    args: fields.args,
    defaultEnv: fields.defaultEnv,
    ports: fields.ports,
    restartPolicy: fields.restartPolicy,
    containerName: fields.containerName,
    ownPods: fields.ownPods,
  };
}

import { fieldsOf, mergePodOptions, setsPodOptions } from './merge';
import { PodModel, podModel } from './model';
import { renderPodTemplate } from './pod-template';
import { ReplicaProps } from '../replica';
import { RestartPolicy } from '../restart-policy';
import { DEFAULT_PORT, PORT_NAME } from '../rules/facts';
import { withFields } from '../rules/objects';

/** What the replicas of one job have in common: the job's pod, without ports. */
export type ReplicaSpecInput = Omit<PodModel, 'ports'> & {
  /** Port of the `pytorch` container, named as the operator looks it up. */
  readonly port?: number;
};

/**
 * Returns a function that renders entries of `spec.pytorchReplicaSpecs` with every default written: the restart
 * policy and the `pytorchjob-port`. Replicas that override nothing of the pod share one rendered template, which
 * halves the rendering of a typical job (the manifest is copied when it is synthesized).
 */
export function replicaSpecRenderer(input: ReplicaSpecInput): (type: string, replicas: number, replica?: ReplicaProps) => object {
  const pod = podModel(withFields(input, { ports: [{ name: PORT_NAME, containerPort: input.port ?? DEFAULT_PORT, protocol: 'TCP' }] }));
  let shared: unknown;
  return (type, replicas, replica = {}) => {
    return {
      replicas,
      restartPolicy: replica.restartPolicy ?? RestartPolicy.ON_FAILURE,
      template: setsPodOptions(replica) || replica.image !== undefined
        ? renderPodTemplate(podModel(withFields(pod, {
          image: replica.image ?? pod.image,
          options: mergePodOptions(pod.options, replica, fieldsOf(type.toLowerCase())),
        })))
        : shared ??= renderPodTemplate(pod),
    };
  };
}

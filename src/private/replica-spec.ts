import { DEFAULT_PORT, PORT_NAME } from './operator-env';
import { PodTemplateInput, renderPodTemplate } from './pod-template';
import { ReplicaProps } from '../replica';
import { RestartPolicy } from '../restart-policy';

/** What the replicas of one job have in common. */
export interface ReplicaSpecInput extends Omit<PodTemplateInput, 'replica' | 'ports'> {
  /** Port of the `pytorch` container, named as the operator looks it up. */
  readonly port?: number;
}

/** The replica settings that change the pod template; the others (restart policy, count) do not. */
const POD_FIELDS: ReadonlyArray<keyof ReplicaProps> = ['image', 'requests', 'limits', 'nodeSelector', 'tolerations'];

/**
 * Returns a function that renders entries of `spec.pytorchReplicaSpecs` with every default written: the restart
 * policy and the `pytorchjob-port`. Replicas that override nothing of the pod share one rendered template, which
 * halves the rendering of a typical job (the manifest is copied when it is synthesized).
 */
export function replicaSpecRenderer(input: ReplicaSpecInput): (replicas: number, replica?: ReplicaProps) => object {
  const ports = [{ name: PORT_NAME, containerPort: input.port ?? DEFAULT_PORT, protocol: 'TCP' }];
  let shared: unknown;
  return (replicas, replica = {}) => ({
    replicas,
    restartPolicy: replica.restartPolicy ?? RestartPolicy.ON_FAILURE,
    template: POD_FIELDS.some(field => replica[field] !== undefined)
      ? renderPodTemplate({ ...input, replica, ports })
      : shared ??= renderPodTemplate({ ...input, ports }),
  });
}

import { DEFAULT_PORT, PORT_NAME } from './operator-env';
import { PodTemplateInput, renderPodTemplate } from './pod-template';
import { RestartPolicy } from '../restart-policy';

/** One entry of `spec.pytorchReplicaSpecs`. */
export interface ReplicaSpecInput extends PodTemplateInput {
  /** Number of pods. */
  readonly replicas: number;
  /** Port of the `pytorch` container, named as the operator looks it up. */
  readonly port?: number;
}

/** Renders a replica spec with every default written: the restart policy and the `pytorchjob-port`. */
export function renderReplicaSpec(input: ReplicaSpecInput) {
  return {
    replicas: input.replicas,
    restartPolicy: input.replica?.restartPolicy ?? RestartPolicy.ON_FAILURE,
    template: renderPodTemplate({
      ...input,
      ports: [{ name: PORT_NAME, containerPort: input.port ?? DEFAULT_PORT, protocol: 'TCP' }],
    }),
  };
}

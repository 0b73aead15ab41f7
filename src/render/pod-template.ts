import { nonEmpty, renderContainer, renderTrainingContainer } from './container';
import { PodModel } from './model';
import { renderPlacement } from './placement';
import { pruned } from './pruned';
import { renderVolumes } from './volumes';

function copyOf(map: { [key: string]: string } | undefined): { [key: string]: string } | undefined {
  return map && { ...map };
}

/** Renders one kind of pod as a PodTemplateSpec, in plain JSON (undefined fields are dropped when written). */
export function renderPodTemplate(pod: PodModel): any {
  const options = pod.options;
  const initContainers = [
    ...(options.initContainers ?? []).map(container => renderContainer(container)),
    ...(options.sidecars ?? []).map(container => renderContainer(container, true)),
  ];
  const security = options.podSecurity ?? {};
  return pruned({
    // Copied: cdk8s cannot write a map without a prototype (Object.create(null)), which a caller may pass.
    metadata: pruned({ labels: copyOf(options.podLabels), annotations: copyOf(options.podAnnotations) }),
    spec: pruned({
      initContainers: nonEmpty(initContainers),
      containers: [renderTrainingContainer(pod), ...(options.containers ?? []).map(container => renderContainer(container))],
      restartPolicy: pod.restartPolicy,
      volumes: nonEmpty(renderVolumes(options)),
      serviceAccountName: options.serviceAccount?.name,
      imagePullSecrets: nonEmpty((options.imagePullSecrets ?? []).map(secret => ({ name: secret.name }))),
      ...renderPlacement(pod),
      securityContext: pruned({
        runAsUser: security.runAsUser,
        runAsGroup: security.runAsGroup,
        fsGroup: security.fsGroup,
        runAsNonRoot: security.runAsNonRoot,
      }),
    }),
  });
}

import { compact } from './compact';
import { nonEmpty, renderContainer, renderTrainingContainer } from './container';
import { PodModel } from './model';
import { renderPlacement } from './placement';
import { renderVolumes } from './volumes';

/** Renders one kind of pod as a PodTemplateSpec, in plain JSON without undefined fields. */
export function renderPodTemplate(pod: PodModel): any {
  const options = pod.options;
  const initContainers = [
    ...(options.initContainers ?? []).map(container => renderContainer(container)),
    ...(options.sidecars ?? []).map(container => renderContainer(container, true)),
  ];
  const security = options.podSecurity ?? {};
  return compact({
    metadata: { labels: options.podLabels, annotations: options.podAnnotations },
    spec: {
      initContainers: nonEmpty(initContainers),
      containers: [renderTrainingContainer(pod), ...(options.containers ?? []).map(container => renderContainer(container))],
      restartPolicy: pod.restartPolicy,
      volumes: nonEmpty(renderVolumes(options)),
      serviceAccountName: options.serviceAccount?.name,
      imagePullSecrets: nonEmpty((options.imagePullSecrets ?? []).map(secret => ({ name: secret.name }))),
      ...renderPlacement(pod),
      securityContext: {
        runAsUser: security.runAsUser,
        runAsGroup: security.runAsGroup,
        fsGroup: security.fsGroup,
        runAsNonRoot: security.runAsNonRoot,
      },
    },
  });
}

import { nonEmpty, renderContainer, renderTrainingContainer } from './container';
import { PodModel } from './model';
import { renderPlacement } from './placement';
import { pruned } from './pruned';
import { renderVolumes } from './volumes';
import { ContainerOptions } from '../container';

function copyOf(map: { [key: string]: string } | undefined): { [key: string]: string } | undefined {
  return map && { ...map };
}

/** Renders one kind of pod as a PodTemplateSpec, in plain JSON (undefined fields are dropped when written). */
export function renderPodTemplate(pod: PodModel): any {
  const options = pod.options;
  const initContainers: object[] = [];
  addContainers(initContainers, options.initContainers, false);
  addContainers(initContainers, options.sidecars, true);
  const containers = [renderTrainingContainer(pod)];
  addContainers(containers, options.containers, false);
  const security = options.podSecurity ?? {};
  return pruned({
    // Copied: cdk8s cannot write a map without a prototype (Object.create(null)), which a caller may pass.
    metadata: pruned({ labels: copyOf(options.podLabels), annotations: copyOf(options.podAnnotations) }),
    // Assigned, not spread into the literal: see withFields.
    spec: pruned(Object.assign({
      initContainers: nonEmpty(initContainers),
      containers,
      restartPolicy: pod.restartPolicy,
      volumes: nonEmpty(renderVolumes(options)),
      serviceAccountName: options.serviceAccount?.name,
      imagePullSecrets: nonEmpty((options.imagePullSecrets ?? []).map(secret => ({ name: secret.name }))),
      securityContext: pruned({
        runAsUser: security.runAsUser,
        runAsGroup: security.runAsGroup,
        fsGroup: security.fsGroup,
        runAsNonRoot: security.runAsNonRoot,
      }),
    }, renderPlacement(pod))),
  });
}

/**
 * Renders the containers of a list the options may leave out. Lists left out are not replaced by an empty one: an
 * empty literal and a list of containers are arrays of different kinds to V8, and code compiled for one is thrown
 * away when the other comes.
 */
function addContainers(rendered: object[], containers: readonly ContainerOptions[] | undefined, sidecar: boolean): void {
  if (containers === undefined) return;
  for (let i = 0; i < containers.length; i++) rendered.push(renderContainer(containers[i], sidecar));
}

import { DEFAULT_PORT, PORT_NAME } from './facts';
import { trainingContainer } from './pod-template';
import { isObject, Json } from './problem';


/** An environment variable the operator appends to a pod's containers. */
export interface InjectedVar {
  readonly name: string;
  readonly value: string;
}

/**
 * The variables the training operator (kubeflow/trainer v1.9) appends to every container of pod
 * `<job>-<type>-<index>`, after the user's own, in the operator's order.
 */
export function operatorEnv(job: Json, replicaType: string, index: number): InjectedVar[] {
  const spec: Json = isObject(job.spec) ? job.spec : {};
  const replicaSpecs: Json = isObject(spec.pytorchReplicaSpecs) ? spec.pytorchReplicaSpecs : {};
  const elastic: Json | undefined = isObject(spec.elasticPolicy) ? spec.elasticPolicy : undefined;
  let totalPods = 0;
  for (const type of Object.keys(replicaSpecs)) totalPods += replicaCount(replicaSpecs[type]);
  const env: InjectedVar[] = [{ name: 'PYTHONUNBUFFERED', value: '1' }];

  if (replicaSpecs.Master !== undefined) {
    const port = String(trainingPort(replicaSpecs.Master));
    const address = masterAddress(job);
    const nproc = /^\d+$/.test(String(spec.nprocPerNode ?? '')) ? Number(spec.nprocPerNode) : 1;
    const rank = String(replicaType === 'Master' ? 0 : index + 1);
    env.push(
      { name: 'MASTER_PORT', value: port }, { name: 'PET_MASTER_PORT', value: port },
      { name: 'MASTER_ADDR', value: address }, { name: 'PET_MASTER_ADDR', value: address },
      { name: 'WORLD_SIZE', value: String(totalPods * nproc) },
      { name: 'RANK', value: rank }, { name: 'PET_NODE_RANK', value: rank },
    );
  }
  const nprocPerNode = spec.nprocPerNode ?? (elastic?.nProcPerNode === undefined ? 'auto' : undefined);
  if (nprocPerNode !== undefined) env.push({ name: 'PET_NPROC_PER_NODE', value: String(nprocPerNode) });

  if (!elastic) {
    env.push({ name: 'PET_NNODES', value: String(totalPods) });
    return env;
  }
  const { min: minNodes, max: maxNodes } = elasticNodeRange(elastic, replicaCount(replicaSpecs.Worker));
  env.push(
    { name: 'PET_RDZV_ENDPOINT', value: `${elastic.rdzvHost ?? firstWorkerAddress(job)}:${elastic.rdzvPort ?? trainingPort(replicaSpecs.Worker)}` },
    { name: 'PET_RDZV_BACKEND', value: String(elastic.rdzvBackend ?? 'c10d') },
    { name: 'PET_NNODES', value: `${minNodes}:${maxNodes}` },
  );
  if (elastic.maxRestarts !== undefined) env.push({ name: 'PET_MAX_RESTARTS', value: String(elastic.maxRestarts) });
  if (elastic.nProcPerNode !== undefined) env.push({ name: 'PET_NPROC_PER_NODE', value: String(elastic.nProcPerNode) });
  if (elastic.rdzvId !== undefined) env.push({ name: 'PET_RDZV_ID', value: String(elastic.rdzvId) });
  if (Array.isArray(elastic.rdzvConf)) {
    env.push({ name: 'PET_RDZV_CONF', value: elastic.rdzvConf.map((c: unknown) => (isObject(c) ? `${c.key}=${c.value}` : '')).join(',') });
  }
  if (elastic.standalone === true) env.push({ name: 'PET_STANDALONE', value: '' });
  return env;
}

/** The master pod's Service, which the operator gives as `MASTER_ADDR` (any `/` of the job's name made `-`). */
export function masterAddress(job: Json): string {
  return `${String(job.metadata?.name ?? '').replace(/\//g, '-')}-master-0`;
}

/** The first Worker's Service, the operator's rendezvous host of an elastic job without `rdzvHost`. */
export function firstWorkerAddress(job: Json): string {
  return `${String(job.metadata?.name ?? '')}-worker-0`;
}

/** The node range of an elastic policy after the operator's defaulting: a bound left out is the other, or the Worker count. */
export function elasticNodeRange(elastic: Json, workers: number): { min: number; max: number } {
  return { min: elastic.minReplicas ?? elastic.maxReplicas ?? workers, max: elastic.maxReplicas ?? elastic.minReplicas ?? workers };
}

/** The replica count after the operator's defaulting (an omitted count is 1). */
export function replicaCount(replica: unknown): number {
  return isObject(replica) && typeof replica.replicas === 'number' ? replica.replicas : isObject(replica) ? 1 : 0;
}

/** The `pytorchjob-port` of a replica's `pytorch` container, as the operator finds it. */
export function trainingPort(replica: unknown): number {
  const container = trainingContainer(isObject(replica) ? replica.template : undefined);
  const port = Array.isArray(container?.ports) ? container.ports.find((p: unknown) => isObject(p) && p.name === PORT_NAME) : undefined;
  return port?.containerPort ?? DEFAULT_PORT;
}

import {
  MASTER_ROLE, OPERATOR_JOB_NAME_LABEL, OPERATOR_JOB_ROLE_LABEL, OPERATOR_NAME, OPERATOR_NAME_LABEL, OPERATOR_REPLICA_INDEX_LABEL,
  OPERATOR_REPLICA_TYPE_LABEL,
} from './facts';
import { replicaCount } from './operator-env';
import { isObject, Json, Problem, ProblemKind, show } from './problem';

const OPERATIONAL = ProblemKind.OPERATIONAL;
const REPLICA_TYPES = ['Master', 'Worker'];
const TERMS = 'affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution';

/** Pods of one replica that carry the same labels: how many, and which. */
interface PodGroup {
  readonly count: number;
  readonly labels: { readonly [key: string]: string };
}

/** The node-label values a replica's required placement allows for one label key, and what restricts them. */
interface AllowedValues {
  readonly values: readonly string[];
  readonly source: string;
}

/**
 * Required pod anti-affinity that no node layout can satisfy. The pods of a job that carry a term and match its
 * selector each need their own value of the term's topology key; when the replicas' required node placement allows
 * fewer values of that key, some pods can never be scheduled. Reported only where that is decidable from the manifest:
 * otherwise (a selector on the replica index or on unknown namespaces, match label keys, a placement that does not
 * restrict the key to a list) nothing is reported.
 */
export function checkPodAntiAffinity(job: Json): Problem[] {
  const replicaSpecs: Json = isObject(job.spec) && isObject(job.spec.pytorchReplicaSpecs) ? job.spec.pytorchReplicaSpecs : {};
  const types = Object.keys(replicaSpecs).filter(type => REPLICA_TYPES.includes(type) && isObject(replicaSpecs[type]));
  const terms = new Map(types.map(type => [type, antiAffinityTerms(replicaSpecs[type])]));
  const problems: Problem[] = [];
  for (const type of types) {
    terms.get(type)!.forEach((term, k) => {
      // Without a replica whose placement restricts the term's key, every pod can have a value of its own.
      if (!types.some(other => allowedValues(replicaSpecs[other].template?.spec, term.topologyKey) !== undefined)) return;
      if (!isDecidable(term, job)) return;
      const path = `spec.pytorchReplicaSpecs[${type}].template.spec.${TERMS}[${k}]`;
      const own = single(job, type, term);
      if (own && isInfeasible(own)) {
        problems.push(report(path, term.topologyKey, own));
        return;
      }
      // Pods of every replica that carries the same term repel one another as they repel their own replica's:
      // all of them together need their own values too. Reported once, at the first replica that carries the term.
      const carriers = types.filter(other => terms.get(other)!.some(t => sameTerm(t, term)));
      if (carriers[0] !== type || carriers.some(other => isInfeasible(single(job, other, term)))) return;
      const all = pooled(job, carriers, term);
      if (all && isInfeasible(all)) problems.push(report(path, term.topologyKey, all));
    });
  }
  return problems;
}

/** Matching pods set against the values their placement allows. */
interface Demand {
  readonly pods: number;
  readonly allowed: AllowedValues;
}

/** More pods than values, two pods at least (one pod has nothing to avoid), and placement that allows some value at all. */
function isInfeasible(demand: Demand | undefined): boolean {
  return demand !== undefined && demand.pods >= 2 && demand.allowed.values.length > 0 && demand.pods > demand.allowed.values.length;
}

function report(path: string, key: string, { pods, allowed }: Demand): Problem {
  const count = allowed.values.length;
  return {
    path,
    message: `requires one pod per ${show(key)}, but ${pods} pods match its selector and ${allowed.source} allows ${count} node ${count === 1 ? 'value' : 'values'} (${allowed.values.map(show).join(', ')}): the pods can never all be scheduled`,
    kind: OPERATIONAL,
  };
}

function antiAffinityTerms(replica: Json): Json[] {
  const terms: unknown = replica.template?.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return Array.isArray(terms) ? terms.map(term => (isObject(term) ? term : {})) : [];
}

/** The matching pods of several replicas against the union of their allowed values, when every one of them is restricted. */
function pooled(job: Json, carriers: readonly string[], term: Json): Demand | undefined {
  const replicaSpecs = job.spec.pytorchReplicaSpecs;
  const matching = carriers.map(type => ({ type, pods: matchingPods(job, type, term.labelSelector) })).filter(c => c.pods > 0);
  const allowed = matching.map(c => allowedValues(replicaSpecs[c.type].template?.spec, term.topologyKey));
  if (matching.length < 2 || allowed.some(a => a === undefined)) return undefined;
  const sources = [...new Set(allowed.map(a => a!.source))];
  return {
    pods: matching.reduce((sum, c) => sum + c.pods, 0),
    allowed: {
      values: [...new Set(allowed.flatMap(a => a!.values))],
      source: sources.length === 1 ? sources[0] : 'the replicas\' node placement',
    },
  };
}

/** One replica's matching pods against its own allowed values. */
function single(job: Json, type: string, term: Json): Demand | undefined {
  const allowed = allowedValues(job.spec.pytorchReplicaSpecs[type].template?.spec, term.topologyKey);
  return allowed && { pods: matchingPods(job, type, term.labelSelector), allowed };
}

/**
 * Whether the pods a term selects among the job's own can be told from the manifest: a selector written (an absent one
 * selects nothing), with known operators and not on the replica index (which tells the pods of a replica apart), no
 * match label keys (which take values from each pod), and the job's own namespace among those it looks in.
 */
function isDecidable(term: Json, job: Json): boolean {
  if (typeof term.topologyKey !== 'string' || term.topologyKey === '' || !isObject(term.labelSelector)) return false;
  if (!isEmpty(term.matchLabelKeys) || !isEmpty(term.mismatchLabelKeys)) return false;
  if (!looksInOwnNamespace(term, job)) return false;
  const selector = term.labelSelector;
  const matchLabels: Json = isObject(selector.matchLabels) ? selector.matchLabels : {};
  const expressions: unknown[] = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  if (OPERATOR_REPLICA_INDEX_LABEL in matchLabels) return false;
  return expressions.every(e => isObject(e) && typeof e.key === 'string' && e.key !== OPERATOR_REPLICA_INDEX_LABEL
    && (e.operator === 'Exists' || e.operator === 'DoesNotExist' || ((e.operator === 'In' || e.operator === 'NotIn') && Array.isArray(e.values))));
}

/** A term looks in the pod's own namespace unless it names namespaces or selects them by label. */
function looksInOwnNamespace(term: Json, job: Json): boolean {
  const selector = term.namespaceSelector;
  if (isObject(selector) && Object.keys(selector).some(k => !isEmpty(selector[k]))) return false;
  // An empty namespace selector looks in every namespace.
  if (isObject(selector)) return true;
  const namespaces: unknown[] = Array.isArray(term.namespaces) ? term.namespaces : [];
  if (namespaces.length === 0) return true;
  return typeof job.metadata?.namespace === 'string' && namespaces.includes(job.metadata.namespace);
}

function isEmpty(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  return value === undefined || value === null || (isObject(value) && Object.keys(value).length === 0);
}

function sameTerm(a: Json, b: Json): boolean {
  return canonical(a) === canonical(b);
}

/** JSON with object keys sorted, so that equal terms compare equal however they are written. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) return `{${Object.keys(value).sort().map(k => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** How many pods of a replica a label selector matches. */
function matchingPods(job: Json, type: string, selector: Json): number {
  return podGroups(job, type).filter(group => matches(group.labels, selector)).reduce((sum, group) => sum + group.count, 0);
}

/**
 * The labels of a replica's pods: the template's, with the operator's over them. They differ only in the replica index,
 * which the selectors read here do not mention, and in the job role, which the Master carries, or without a Master,
 * Worker 0.
 */
function podGroups(job: Json, type: string): PodGroup[] {
  const replicaSpecs = job.spec.pytorchReplicaSpecs;
  const replica: Json = replicaSpecs[type];
  const templateLabels: Json = isObject(replica.template?.metadata?.labels) ? replica.template.metadata.labels : {};
  const labels: { [key: string]: string } = {
    ...Object.fromEntries(Object.entries(templateLabels).map(([key, value]) => [key, String(value)])),
    [OPERATOR_NAME_LABEL]: OPERATOR_NAME,
    [OPERATOR_JOB_NAME_LABEL]: String(job.metadata?.name ?? ''),
    [OPERATOR_REPLICA_TYPE_LABEL]: type.toLowerCase(),
  };
  delete labels[OPERATOR_JOB_ROLE_LABEL];
  const count = replicaCount(replica);
  const hasRole = type === 'Master' || (type === 'Worker' && replicaSpecs.Master === undefined);
  if (!hasRole || count === 0) return [{ count, labels }];
  return [{ count: 1, labels: { ...labels, [OPERATOR_JOB_ROLE_LABEL]: MASTER_ROLE } }, { count: count - 1, labels }];
}

/** A label selector's verdict on a set of labels: every matchLabels entry and every expression must hold. */
function matches(labels: { readonly [key: string]: string }, selector: Json): boolean {
  const matchLabels: Json = isObject(selector.matchLabels) ? selector.matchLabels : {};
  const expressions: Json[] = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  return Object.entries(matchLabels).every(([key, value]) => labels[key] === String(value))
    && expressions.every(e => {
      const present = Object.prototype.hasOwnProperty.call(labels, e.key);
      const values: unknown[] = Array.isArray(e.values) ? e.values : [];
      switch (e.operator) {
        case 'In': return present && values.includes(labels[e.key]);
        case 'NotIn': return !present || !values.includes(labels[e.key]);
        case 'Exists': return present;
        default: return !present;
      }
    });
}

/**
 * The values of node label `key` that a pod spec's required placement allows, or undefined when it allows any:
 * `nodeSelector[key]` allows one; required node affinity, whose terms are ORed, restricts the key only when every term
 * has an `In` expression on it (a term that matches no node at all adds nothing). Both must hold when both are set.
 */
function allowedValues(podSpec: unknown, key: string): AllowedValues | undefined {
  const spec: Json = isObject(podSpec) ? podSpec : {};
  let values: Set<string> | undefined;
  const sources: string[] = [];
  const selected = isObject(spec.nodeSelector) ? spec.nodeSelector[key] : undefined;
  if (typeof selected === 'string') {
    values = new Set([selected]);
    sources.push('spec.nodeSelector');
  }
  const terms: unknown = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (Array.isArray(terms) && terms.length > 0) {
    const union = new Set<string>();
    const restricted = terms.every(term => {
      const termValues = valuesOfTerm(term, key);
      termValues?.forEach(v => union.add(v));
      return termValues !== undefined;
    });
    if (restricted) {
      values = values ? new Set([...values].filter(v => union.has(v))) : union;
      sources.push('the required node affinity');
    }
  }
  return values && { values: [...values], source: sources.join(' and ') };
}

/** The values of `key` one node selector term allows: undefined when any, empty when the term matches no node. */
function valuesOfTerm(term: unknown, key: string): Set<string> | undefined {
  const expressions: unknown[] = isObject(term) && Array.isArray(term.matchExpressions) ? term.matchExpressions : [];
  const fields: unknown[] = isObject(term) && Array.isArray(term.matchFields) ? term.matchFields : [];
  // An empty term matches no node.
  if (expressions.length === 0 && fields.length === 0) return new Set();
  let values: Set<string> | undefined;
  for (const e of expressions) {
    if (!isObject(e) || e.key !== key) continue;
    const listed = new Set((Array.isArray(e.values) ? e.values : []).map(String));
    if (e.operator === 'In') values = values ? new Set([...values].filter(v => listed.has(v))) : listed;
  }
  if (values === undefined) return undefined;
  for (const e of expressions) {
    if (!isObject(e) || e.key !== key) continue;
    const listed = new Set((Array.isArray(e.values) ? e.values : []).map(String));
    if (e.operator === 'NotIn') values = new Set([...values].filter(v => !listed.has(v)));
    if (e.operator === 'DoesNotExist') values = new Set();
  }
  return values;
}

/**
 * The syntaxes the API server and the kubelet hold names, keys and image references to (k8s.io/apimachinery
 * validation, and the image reference grammar of distribution/reference that the kubelet parses images with).
 */
import { isObject, Json, Problem, ProblemKind, show } from './problem';

/** The longest DNS label: pod, Service, container and volume names, the name part of a label key. */
export const MAX_LABEL_LENGTH = 63;
const MAX_SUBDOMAIN_LENGTH = 253;
/** The API server's bound on the annotations of one object, keys and values together. */
const MAX_ANNOTATIONS_BYTES = 256 * 1024;
/** The longest image name (before the tag), as distribution/reference allows. */
const MAX_IMAGE_NAME_LENGTH = 255;

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** The name part of a qualified name (a label or annotation key), and a label value. */
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const IMAGE_PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IMAGE_DOMAIN = `(?:${IMAGE_DOMAIN_COMPONENT}(?:\\.${IMAGE_DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const IMAGE_NAME = new RegExp(`^(?:${IMAGE_DOMAIN}/)?${IMAGE_PATH_COMPONENT}(?:/${IMAGE_PATH_COMPONENT})*$`);
const IMAGE_TAG = /^[\w][\w.-]{0,127}$/;
const IMAGE_DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

export const DNS_1123_LABEL_RULE = `lower-case letters, digits and '-', starting and ending with a letter or digit, at most ${MAX_LABEL_LENGTH} characters`;
export const DNS_1035_LABEL_RULE = `lower-case letters, digits and '-', starting with a letter, ending with a letter or digit, at most ${MAX_LABEL_LENGTH} characters`;
const QUALIFIED_NAME_RULE = `an optional DNS subdomain prefix and '/', then at most ${MAX_LABEL_LENGTH} letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
export const LABEL_VALUE_RULE = `empty, or at most ${MAX_LABEL_LENGTH} letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;

export function isDns1123Label(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_LABEL_LENGTH && DNS_1123_LABEL.test(value);
}

export function isDns1035Label(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_LABEL_LENGTH && DNS_1035_LABEL.test(value);
}

function isQualifiedName(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && !(prefix.length <= MAX_SUBDOMAIN_LENGTH && DNS_1123_SUBDOMAIN.test(prefix))) return false;
  return name.length <= MAX_LABEL_LENGTH && QUALIFIED_NAME_PART.test(name);
}

export function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= MAX_LABEL_LENGTH && QUALIFIED_NAME_PART.test(value));
}

/** A name that must be a DNS-1123 label (a container or a volume). */
export function checkDns1123Label(name: unknown, path: string, kind: ProblemKind): Problem[] {
  return isDns1123Label(name) ? [] : [{ path, message: `${show(name)} is not a DNS-1123 label: ${DNS_1123_LABEL_RULE}`, kind }];
}

/**
 * The label-shaped maps of an object's or a pod template's metadata, which the API server checks on the object and
 * on the pod it creates from a template.
 * @param path the metadata's field path, e.g. `metadata` or `spec.template.metadata`
 */
export function checkMetadataMaps(metadata: unknown, path: string, kind: ProblemKind): Problem[] {
  if (!isObject(metadata)) return [];
  const problems = checkLabels(metadata.labels, `${path}.labels`, 'label', kind);
  const annotations: Json = isObject(metadata.annotations) ? metadata.annotations : {};
  let bytes = 0;
  for (const key of Object.keys(annotations)) {
    const value = annotations[key];
    bytes += Buffer.byteLength(key) + (typeof value === 'string' ? Buffer.byteLength(value) : 0);
    if (!isQualifiedName(key.toLowerCase())) {
      problems.push({ path: `${path}.annotations[${key}]`, message: `${show(key)} is not an annotation key: ${QUALIFIED_NAME_RULE}`, kind });
    }
  }
  if (bytes > MAX_ANNOTATIONS_BYTES) {
    problems.push({ path: `${path}.annotations`, message: `hold ${bytes} bytes: the API server takes at most ${MAX_ANNOTATIONS_BYTES} bytes of annotations, keys and values together`, kind });
  }
  return problems;
}

/**
 * A map with label keys and label values: metadata labels, a node selector.
 * @param what what the map's keys are called in messages
 */
export function checkLabels(labels: unknown, path: string, what: string, kind: ProblemKind): Problem[] {
  const problems: Problem[] = [];
  if (!isObject(labels)) return problems;
  for (const key of Object.keys(labels)) {
    const value = labels[key];
    if (!isQualifiedName(key)) {
      problems.push({ path: `${path}[${key}]`, message: `${show(key)} is not a ${what} key: ${QUALIFIED_NAME_RULE}`, kind });
    } else if (typeof value === 'string' && !isLabelValue(value)) {
      problems.push({ path: `${path}[${key}]`, message: `${show(value)} is not a label value: ${LABEL_VALUE_RULE}`, kind });
    }
  }
  return problems;
}

/**
 * An image the kubelet can pull: a reference `[registry[:port]/]path[:tag][@digest]` with a lower-case path, and no
 * space around it (the API server refuses that on a pod). Anything else fails as InvalidImageName, such as a
 * placeholder left in (`gcr.io/<your_project>/train`).
 */
export function checkImageReference(image: string, path: string, kind: ProblemKind): Problem[] {
  if (image.trim() !== image) return [{ path, message: `${show(image)} has space around it: the API server refuses an image with leading or trailing whitespace`, kind }];
  const at = image.indexOf('@');
  const named = at < 0 ? image : image.slice(0, at);
  const digest = at < 0 ? undefined : image.slice(at + 1);
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  const name = hasTag ? named.slice(0, colon) : named;
  const tag = hasTag ? named.slice(colon + 1) : undefined;
  const valid = name.length <= MAX_IMAGE_NAME_LENGTH && IMAGE_NAME.test(name)
    && (tag === undefined || IMAGE_TAG.test(tag)) && (digest === undefined || IMAGE_DIGEST.test(digest));
  return valid ? [] : [{
    path,
    message: `${show(image)} is not an image reference: the kubelet fails the pod with InvalidImageName; use [registry/]path[:tag][@digest], with a path of lower-case letters, digits and separators`,
    kind,
  }];
}

/**
 * An environment variable's name: since Kubernetes 1.32 any printable ASCII character but '=' (the rules cannot tell
 * the cluster's version, so the older C-identifier rule is not applied); empty or with '=' no version takes.
 */
export function checkEnvName(name: unknown, path: string, kind: ProblemKind): Problem[] {
  if (typeof name === 'string' && /^[\x20-\x3c\x3e-\x7e]+$/.test(name)) return [];
  return [{ path, message: `${show(name)} is not an environment variable name: it must be non-empty printable ASCII without '='`, kind }];
}

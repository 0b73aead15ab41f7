import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';

const BINARY_UNITS = [
  { unit: 'Pi', factor: 1024 ** 4 }, { unit: 'Ti', factor: 1024 ** 3 }, { unit: 'Gi', factor: 1024 ** 2 }, { unit: 'Mi', factor: 1024 },
];

/** Renders a size as a Kubernetes quantity in the largest binary unit that holds it exactly, e.g. `16Gi`. */
export function renderSize(size: Size): string {
  const kibibytes = size.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
  if (kibibytes === 0) return '0';
  for (const { unit, factor } of BINARY_UNITS) {
    if (kibibytes % factor === 0) return `${kibibytes / factor}${unit}`;
  }
  return `${kibibytes}Ki`;
}

/**
 * Converts a duration to seconds for a field that takes whole seconds.
 * A fraction cannot be written to the manifest, so it is refused here rather than rounded.
 */
export function wholeSeconds(duration: Duration, field: string): number {
  const seconds = duration.toMilliseconds({ integral: false }) / 1000;
  if (!Number.isInteger(seconds)) {
    throw new Error(`${field}: ${duration.toHumanString()} is not a whole number of seconds`);
  }
  return seconds;
}

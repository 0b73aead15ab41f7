import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';

const BINARY_UNITS: ReadonlyArray<[string, number]> = [['Pi', 1024 ** 4], ['Ti', 1024 ** 3], ['Gi', 1024 ** 2], ['Mi', 1024], ['Ki', 1]];

/** Renders a size as a Kubernetes quantity in the largest binary unit that holds it exactly, e.g. `16Gi`. */
export function renderSize(size: Size): string {
  const kibibytes = size.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
  if (kibibytes === 0) return '0';
  const [unit, factor] = BINARY_UNITS.find(([, f]) => kibibytes % f === 0) ?? ['Ki', 1];
  return `${kibibytes / factor}${unit}`;
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

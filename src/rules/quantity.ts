// Decimal suffixes as powers of ten, so that `700m` is parsed as exactly as `0.7`; binary ones as exact powers of two.
const DECIMAL_EXPONENTS: { [suffix: string]: number } = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_FACTORS: { [suffix: string]: number } = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/**
 * Parses a Kubernetes resource quantity (`500m`, `16Gi`, `1e3`, `4`) into its value in base units,
 * or returns undefined when it is not one.
 *
 * @see https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
 */
export function parseQuantity(quantity: unknown): number | undefined {
  if (typeof quantity === 'number') return Number.isFinite(quantity) ? quantity : undefined;
  if (typeof quantity !== 'string') return undefined;
  // Thousands of jobs repeat a handful of quantities.
  if (PARSED.has(quantity)) return PARSED.get(quantity);
  const parsed = parseQuantityText(quantity);
  if (PARSED.size >= MAX_CACHED) PARSED.clear();
  PARSED.set(quantity, parsed);
  return parsed;
}

const PARSED = new Map<string, number | undefined>();
const MAX_CACHED = 1024;

function parseQuantityText(quantity: string): number | undefined {
  const match = QUANTITY.exec(quantity);
  if (!match) return undefined;
  const [, number, exponent, suffix] = match;
  if (exponent) return Number(number + exponent);
  if (suffix && suffix in BINARY_FACTORS) return Number(number) * BINARY_FACTORS[suffix];
  return Number(`${number}e${DECIMAL_EXPONENTS[suffix ?? ''] ?? 0}`);
}

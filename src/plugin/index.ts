import { isError, Severity, severityOf } from '../rules/problem';
import { CrdSchema } from '../rules/schema';
import { checkManifest, MAX_PROBLEMS_PER_OBJECT } from '../tools/validate';

/** What a `validations:` entry of `cdk8s.yaml` passes as `properties`. */
export interface KfPyTorchValidationProperties {
  /** Path of the PyTorchJob CRD of another operator version to check the schema against; by default the bundled one. */
  readonly crd?: string;
  /** Warnings fail the synth too; by default they are reported and the synth succeeds. */
  readonly strict?: boolean;
}

/** The parts of cdk8s-cli's validation context this plugin uses. */
interface ValidationContext {
  readonly manifests: readonly string[];
  readonly report: {
    addViolation(violation: {
      ruleName: string;
      recommendation: string;
      fix: string;
      violatingResources: Array<{ resourceName: string; locations: string[]; manifestPath: string }>;
    }): void;
    submit(status: 'success' | 'failure', metadata?: { [key: string]: string }): void;
  };
  parseManifest(manifestPath: string): any[];
}

const FIX: Record<Severity, string> = {
  [Severity.ERROR]: 'Change the field as the message says, or build the job with cdk8s-kfpytorch\'s constructs, which refuse it at synth time.',
  [Severity.WARNING]: 'Change the field as the message says, or keep it if you mean it: the job runs; `strict: true` in the plugin\'s properties makes warnings fail.',
};

/**
 * A cdk8s validation plugin (the local-plugin form of `cdk8s.yaml`'s `validations:`) that applies the library's
 * rules and the CRD schema (the bundled one unless `crd` names another) to every PyTorchJob
 * and single-node torchrun Job an app synthesizes, including those the library's constructs did not write (raw
 * ApiObjects, included YAML, Helm charts), so that `cdk8s synth` fails with the construct path and the rule.
 * Warnings are reported as violations too, and fail the synth only with `strict: true`.
 */
export class KfPyTorchValidation {
  private readonly schema: CrdSchema;
  private readonly strict: boolean;

  public constructor(properties: KfPyTorchValidationProperties = {}) {
    this.schema = properties.crd === undefined ? CrdSchema.bundled() : CrdSchema.fromFile(properties.crd);
    this.strict = properties.strict ?? false;
  }

  public async validate(context: ValidationContext): Promise<void> {
    const counts = { errors: 0, warnings: 0 };
    for (const manifestPath of context.manifests) {
      for (const manifest of context.parseManifest(manifestPath)) {
        const problems = checkManifest(manifest ?? {}, this.schema) ?? [];
        const errors = problems.filter(isError).length;
        counts.errors += errors;
        counts.warnings += problems.length - errors;
        const resourceName = String(manifest.metadata?.name);
        for (const problem of problems.slice(0, MAX_PROBLEMS_PER_OBJECT)) {
          const severity = severityOf(problem);
          context.report.addViolation({
            ruleName: `kfpytorch/${problem.kind}`,
            recommendation: `${problem.path}: ${problem.message} (${severity})`,
            fix: FIX[severity],
            violatingResources: [{ resourceName, locations: [problem.path], manifestPath }],
          });
        }
        if (problems.length > MAX_PROBLEMS_PER_OBJECT) {
          context.report.addViolation({
            ruleName: 'kfpytorch/not-listed',
            recommendation: `${problems.length - MAX_PROBLEMS_PER_OBJECT} more problem(s) of this object, beyond the first ${MAX_PROBLEMS_PER_OBJECT}`,
            fix: 'Fix the problems listed and synthesize again.',
            violatingResources: [{ resourceName, locations: [], manifestPath }],
          });
        }
      }
    }
    const failed = counts.errors > 0 || (this.strict && counts.warnings > 0);
    context.report.submit(failed ? 'failure' : 'success', { errors: String(counts.errors), warnings: String(counts.warnings) });
  }
}

import { CrdSchema } from '../rules/schema';
import { checkManifest } from '../tools/validate';

/** What a `validations:` entry of `cdk8s.yaml` passes as `properties`. */
export interface KfPyTorchValidationProperties {
  /** Path of the PyTorchJob CRD to check the schema against; without it, only the library's rules run. */
  readonly crd?: string;
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

/**
 * A cdk8s validation plugin (the local-plugin form of `cdk8s.yaml`'s `validations:`) that applies the library's
 * rules to every PyTorchJob and single-node torchrun Job an app synthesizes, including those the library's
 * constructs did not write (raw ApiObjects, included YAML, Helm charts), so that `cdk8s synth` fails with the
 * construct path and the rule.
 */
export class KfPyTorchValidation {
  private readonly schema?: CrdSchema;

  public constructor(properties: KfPyTorchValidationProperties = {}) {
    this.schema = properties.crd === undefined ? undefined : CrdSchema.fromFile(properties.crd);
  }

  public async validate(context: ValidationContext): Promise<void> {
    let failed = false;
    for (const manifestPath of context.manifests) {
      for (const manifest of context.parseManifest(manifestPath)) {
        for (const problem of checkManifest(manifest ?? {}, this.schema) ?? []) {
          failed = true;
          context.report.addViolation({
            ruleName: `kfpytorch/${problem.kind}`,
            recommendation: `${problem.path}: ${problem.message}`,
            fix: 'Change the field as the message says, or build the job with cdk8s-kfpytorch\'s constructs, which refuse it at synth time.',
            violatingResources: [{ resourceName: String(manifest.metadata?.name), locations: [problem.path], manifestPath }],
          });
        }
      }
    }
    context.report.submit(failed ? 'failure' : 'success');
  }
}

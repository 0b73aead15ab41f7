import { Construct } from 'constructs';
import { FATAL_WARNINGS_CONTEXT } from './render/checked-object';

/**
 * How the synth-time rules' warnings are treated: what works but is deprecated, risky or likely slow. By default each
 * is shown once per job on standard error and synthesis goes on; errors always fail it.
 */
export class Warnings {
  /**
   * Makes warnings fail synthesis like errors, for every job under the scope (usually the App). Call it before the
   * scope has children: it sets the scope's context, which cdk8s allows only then.
   */
  public static makeFatal(scope: Construct): void {
    scope.node.setContext(FATAL_WARNINGS_CONTEXT, true);
  }

  private constructor() {}
}

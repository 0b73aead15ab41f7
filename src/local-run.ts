/**
 * The local runner's programmatic API, `import { runLocally } from 'cdk8s-kfpytorch/local-run'`: what
 * `kfpytorch run` does, for scripts and tests in TypeScript and JavaScript. It is not in the jsii API (it returns a
 * promise and writes to Node.js streams), so the other languages run the `kfpytorch` command.
 */
export { runLocally } from './tools/runner';
export type { LocalPodResult, LocalRunOptions, LocalRunResult } from './tools/runner';

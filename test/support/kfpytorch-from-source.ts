/*
 * The kfpytorch command from the TypeScript sources, for tests that send a real process real signals while lib/, which
 * bin/kfpytorch runs, may be older than the sources: `node -r ts-node/register/transpile-only kfpytorch-from-source.ts`.
 */
import { main } from '../../src/cli/kfpytorch';

void main(process.argv.slice(2)).then(status => { process.exitCode = status; });

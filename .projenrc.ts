import { cdk8s, javascript } from 'projen';

const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-kfpytorch',
  description: 'cdk8s constructs for distributed PyTorch training with the Kubeflow training operator (PyTorchJob)',
  author: 'cdk8s-kfpytorch maintainers',
  authorAddress: 'maintainers@users.noreply.github.com',
  repositoryUrl: 'https://github.com/cdk8s-kfpytorch/cdk8s-kfpytorch.git',
  defaultReleaseBranch: 'main',
  keywords: ['cdk8s', 'kubeflow', 'pytorch', 'pytorchjob', 'torchrun', 'kubernetes'],
  cdk8sVersion: '2.70.106',
  constructsVersion: '10.8.1',
  jsiiVersion: '~5.9.0',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  github: false,
  release: false,
  peerDeps: ['cdk8s-plus-28@^2.5.6'],
  // The other languages' package names follow cdk8s's own (cdk8s-plus-28 is cdk8s_plus_28, org.cdk8s.plus28 and
  // cdk8s-plus-go/cdk8splus28). The Maven group is the one a GitHub organization can verify on Maven Central:
  // org.cdk8s belongs to the cdk8s team. Go modules are served from their own repository, as cdk8s's are.
  publishToPypi: { distName: 'cdk8s-kfpytorch', module: 'cdk8s_kfpytorch' },
  publishToMaven: {
    javaPackage: 'org.cdk8s.kfpytorch',
    mavenGroupId: 'io.github.cdk8s-kfpytorch',
    mavenArtifactId: 'cdk8s-kfpytorch',
  },
  publishToGo: { moduleName: 'github.com/cdk8s-kfpytorch/cdk8s-kfpytorch-go', packageName: 'cdk8skfpytorch' },
  // Bundled, so that jsii packages them: the kfpytorch command parses its arguments, reads manifests and checks them
  // against a CRD with them, and evaluates the CEL rules of the Trainer v2 CRDs with @bufbuild/cel (which needs
  // @bufbuild/protobuf beside it), its regular expressions compiled once with @bufbuild/re2.
  bundledDeps: ['yaml@^2', 'js-yaml@^4', 'ajv@^8', 'ajv-formats@^3', 'commander@^14', '@bufbuild/cel@^0.6.1', '@bufbuild/protobuf@^2', '@bufbuild/re2@^0.6.1'],
  devDeps: ['typescript@~5.9.0', '@types/node@^20', 'cdk8s-cli@2.207.60', 'fast-check@^4', '@types/js-yaml@^4'],
  bin: { kfpytorch: 'bin/kfpytorch' },
  // jsii compiles both src/ and the generated L1 in imports/, so the entry point moves under lib/src.
  entrypoint: 'lib/src/index.js',
  tsconfig: {
    include: ['src/**/*.ts', 'imports/**/*.ts'],
    // Source maps beside the code, not inside it: Node keeps every loaded file's text in memory, and the inline maps
    // made the library's files three times as large. The maps carry the sources, which the package does not ship.
    compilerOptions: { rootDir: '.', inlineSourceMap: false, inlineSources: true, sourceMap: true },
  },
  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testPathIgnorePatterns: ['/node_modules/', '/lib/', '/dist/'],
      coveragePathIgnorePatterns: ['/node_modules/', '/lib/', '/dist/', '/src/rules/generated/'],
    },
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'projenrc'],
    ignorePatterns: ['imports/', 'lib/', 'dist/', 'node_modules/'],
  },
});

project.package.addField('types', 'lib/src/index.d.ts');
project.addPackageIgnore('/imports/');
project.addPackageIgnore('/examples/');
project.addPackageIgnore('/.ci/');

project.addTask('import', {
  description: 'Generate the typed L1 of kubeflow.org/v1 PyTorchJob from the upstream CRD (offline)',
  exec: 'ts-node --project projenrc/tsconfig.json projenrc/import-pytorchjob.ts',
});

// The shipped CRD schema, compiled to standalone validators before jsii (which copies no JavaScript into lib/)
// and before the tests, so that a fresh clone builds and tests without another step. Derived, so not committed.
const compileSchema = project.addTask('compile-schema', {
  description: 'Compile the vendored PyTorchJob CRD (schemas/) to the standalone validators of CrdSchema.bundled()',
  exec: 'ts-node --transpile-only --project projenrc/tsconfig.json projenrc/compile-schema.ts',
});
project.compileTask.prependSpawn(compileSchema);
project.testTask.prependSpawn(compileSchema);
project.gitignore.exclude('/src/rules/generated/');
// The package ships the compiled validators and the provenance in schemas/README.md, not the CRD itself.
project.addPackageIgnore('/schemas/*.yaml');

project.addTask('examples', {
  description: 'Synthesize the example app to dist/ and print the files written',
  exec: 'ts-node --project examples/tsconfig.json examples/main.ts',
});

// ts-jest only transpiles (isolatedModules): type-check the tests, examples and examples before they run.
project.testTask.prependExec('tsc --noEmit -p test/tsconfig.json');
project.testTask.prependExec('tsc --noEmit -p examples/tsconfig.json');

project.addTask('bench', {
  description: 'Time synthesis against raw cdk8s, its scaling, kfpytorch validate and the cold start (fresh processes)',
  steps: [{ spawn: 'compile' }, { exec: 'node bench/run.js' }],
});
project.addPackageIgnore('/bench/');

// A plain `npx projen build` packages every language in package-all, which leaves Java and Go out: their builds
// fetch cdk8s's own Maven artifacts (org.cdk8s) and Go modules (github.com/cdk8s-team), which the project's
// machines are not served. `package:java` and `package:go` build them where those are reachable; test:go makes
// cdk8s's Go bindings itself.
const packageAll = project.tasks.tryFind('package-all')!;
packageAll.reset();
packageAll.spawn(project.tasks.tryFind('package:js')!);
packageAll.spawn(project.tasks.tryFind('package:python')!);

project.addTask('test:python', {
  description: 'Build the Python wheel and test it in a new virtual environment against the same jobs in TypeScript',
  steps: [{ spawn: 'package:python' }, { exec: 'bash test/python/run.sh' }],
});
project.addTask('test:go', {
  description: 'Synthesize a Flyte case with the Go bindings and compare it with the same job in TypeScript',
  exec: 'bash test/go/run.sh',
});
project.addTask('test:fresh-app', {
  description: 'Pack the npm package, install it into a new cdk8s app and synthesize the README example there',
  exec: 'bash test/fresh-app/run.sh',
});
project.addPackageIgnore('/scripts/');

project.synth();

// Generates imports/kubeflow.org.ts from the upstream PyTorchJob CRD, offline, then removes the upstream
// `/** … */` descriptions: our docs are our own. The CRD is the copy vendored in schemas/, or the one in the
// folder named by KFPYTORCH_CRD_DIR (another operator release).
import { execFileSync } from 'child_process';
import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

function stripDocComments(source: string): string {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, source);
  let output = '';
  let pendingWhitespace = '';
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    const text = scanner.getTokenText();
    if (token === ts.SyntaxKind.WhitespaceTrivia) {
      pendingWhitespace += text;
      continue;
    }
    if (token === ts.SyntaxKind.MultiLineCommentTrivia && text.startsWith('/**')) {
      // The TypeScript scanner tells comments from string contents, so code and strings stay byte for byte.
      // Drop the indentation before the comment and the line break after it.
      pendingWhitespace = '';
      if (source.startsWith('\n', scanner.getTextPos())) {
        scanner.scan();
      }
      continue;
    }
    output += pendingWhitespace + text;
    pendingWhitespace = '';
  }
  return output + pendingWhitespace;
}

const crdDir = process.env.KFPYTORCH_CRD_DIR ?? 'schemas';
execFileSync('cdk8s', [
  'import', path.join(crdDir, 'kubeflow.org_pytorchjobs.yaml'),
  '--language', 'typescript', '--output', 'imports', '--no-check-upgrade',
], { stdio: 'inherit' });
const generated = path.join('imports', 'kubeflow.org.ts');
writeFileSync(generated, stripDocComments(readFileSync(generated, 'utf8')));

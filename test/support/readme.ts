import { readFileSync } from 'fs';
import { join } from 'path';

/** The repository's README, whose examples the tests run as they are written. */
export const README = join(__dirname, '..', '..', 'README.md');

/**
 * The first fenced code block of language `lang` in the README section `heading` (the heading's text without the
 * leading `#`s), so that a test runs what the README shows rather than a copy that can drift from it.
 * test/python/test_twins.py reads the README the same way.
 */
export function readmeBlock(heading: string, lang: string): string {
  let inSection = false;
  let block: string[] | undefined;
  let fence = false;
  for (const line of readFileSync(README, 'utf8').split('\n')) {
    if (line.startsWith('```')) {
      if (inSection && block !== undefined) return block.join('\n') + '\n';
      if (inSection && line === '```' + lang && !fence) block = [];
      fence = !fence;
    } else if (block !== undefined) {
      block.push(line);
    } else if (!fence && /^#+ /.test(line)) {
      // A `#` line inside a code block (a shell or Python comment) is no heading.
      if (inSection) break;
      inSection = line.replace(/^#+ /, '') === heading;
    }
  }
  throw new Error(`README.md has no ${lang} block in a section "${heading}"`);
}

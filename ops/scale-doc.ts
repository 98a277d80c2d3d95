/**
 * docs/scale.md's tables come from ops/scale-model.ts: `npx tsx ops/scale-doc.ts` rewrites every
 * block between `<!-- scale-model:NAME -->` and `<!-- /scale-model -->` with the model's NAME
 * table; `--check` only says whether the doc is current (test/unit/scale-model.test.ts runs the
 * same check). Prose around the blocks is the author's.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderedBlocks } from './scale-model.js';

export const SCALE_DOC = join(fileURLToPath(new URL('..', import.meta.url)), 'docs', 'scale.md');

/** A marked block: its name, then its table (or nothing yet), up to the first closing marker. */
const BLOCK = /<!-- scale-model:([a-z0-9-]+) -->\n(?:(?:(?!<!-- )[^\n]*\n)*)<!-- \/scale-model -->/g;

/** `doc` with each marked block replaced by the model's table of that name; unknown names throw. */
export function renderScaleDoc(doc: string, blocks: Record<string, string> = renderedBlocks()): string {
  return doc.replace(BLOCK, (_all, name: string) => {
    const table = blocks[name];
    if (table === undefined) throw new Error(`docs/scale.md names a block the model does not render: ${name}`);
    return `<!-- scale-model:${name} -->\n${table}\n<!-- /scale-model -->`;
  });
}

/** Names of the marked blocks in `doc`, in order. */
export function blockNames(doc: string): string[] {
  return [...doc.matchAll(BLOCK)].map((m) => m[1]!);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const doc = readFileSync(SCALE_DOC, 'utf8');
  const rendered = renderScaleDoc(doc);
  if (process.argv.includes('--check')) {
    if (rendered !== doc) {
      console.error('docs/scale.md is not what ops/scale-model.ts renders: run npx tsx ops/scale-doc.ts');
      process.exit(1);
    }
  } else if (rendered !== doc) {
    writeFileSync(SCALE_DOC, rendered);
    console.log('docs/scale.md: tables rewritten from ops/scale-model.ts');
  }
}

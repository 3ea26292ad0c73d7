// The TypeScript in the docs is real: every ```ts block of docs/**/*.md is type-checked against the source,
// with `import … from 'glassbox'` (and 'glassbox/elements') resolved to src/. A renamed option or a changed
// signature fails here instead of in a reader's editor.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'api' ? [] : markdownFiles(path); // api/: generated
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

/** Each ```ts block as a module of its own, named after its file and position. */
function snippets(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of markdownFiles(join(root, 'docs'))) {
    const text = readFileSync(file, 'utf8');
    let index = 0;
    for (const match of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
      out.set(join(root, '.snippets', `${relative(join(root, 'docs'), file).replace(/[/.]/g, '_')}_${index++}.ts`), `${match[1]}\nexport {};\n`);
    }
  }
  return out;
}

it('every TypeScript snippet in docs/ type-checks against the source', () => {
  const files = snippets();
  expect(files.size).toBeGreaterThanOrEqual(3);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    types: ['@webgpu/types', 'vite/client'],
    typeRoots: [join(root, 'node_modules/@types'), join(root, 'node_modules')],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    baseUrl: root,
    paths: { glassbox: ['src/index.ts'], 'glassbox/elements': ['src/elements/index.ts'] },
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => files.get(resolve(name)) ?? readFile(name);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => files.has(resolve(name)) || fileExists(name);
  const program = ts.createProgram([...files.keys()], options, host);
  const problems = [...files.keys()].flatMap((name) =>
    ts.getPreEmitDiagnostics(program, program.getSourceFile(name)).map((d) => {
      const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
      return `${relative(root, name)}${at ? `:${at.line + 1}` : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    }),
  );
  expect(problems).toEqual([]);
}, 120_000);

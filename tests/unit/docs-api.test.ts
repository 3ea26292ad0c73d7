// The API reference builds from the TypeScript (typedoc.json, as `npm run docs` runs it) with no error, no
// warning, no broken {@link} and no public declaration without a doc comment.
import { Application, LogLevel } from 'typedoc';
import { expect, it } from 'vitest';

it('the API reference converts without errors, broken links or undocumented exports', async () => {
  const app = await Application.bootstrapWithPlugins({ options: 'typedoc.json', logLevel: LogLevel.Warn, validation: { notExported: false, invalidLink: true, notDocumented: true } });
  const messages: string[] = [];
  const log = app.logger.log.bind(app.logger);
  app.logger.log = (message, level) => {
    if (level >= LogLevel.Warn) messages.push(String(message));
    log(message, level);
  };
  const project = await app.convert();
  expect(project, 'TypeDoc could not convert the project').toBeDefined();
  app.validate(project!);
  expect(messages).toEqual([]);
  expect(app.logger.errorCount).toBe(0);
  const exported = Object.keys(project!.reflections).length;
  expect(exported).toBeGreaterThan(300); // both entry points, every export
}, 120_000);

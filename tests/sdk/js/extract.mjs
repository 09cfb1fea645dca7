// Extraction through the SDK: from a parse task id, from a document (implicit parse), and a refused schema.
// Stdin: JSON {"pdf": base64 of an invoice PDF, "schema": JSON Schema}
import { attempt, client, input, main, waitDone } from './lib.mjs';

main(async () => {
  const sdk = client();
  const { pdf, schema } = input();
  const parse = await sdk.tasks.parse.create({ file: pdf, ocr_strategy: 'Auto' });
  await waitDone(sdk, parse.task_id);

  const fromTask = await sdk.tasks.extract.create({ file: parse.task_id, schema });
  await waitDone(sdk, fromTask.task_id);
  const fromTaskDone = await sdk.tasks.extract.get(fromTask.task_id);

  const fromDocument = await sdk.tasks.extract.create({
    file: pdf,
    file_name: 'invoice.pdf',
    schema,
    parse_configuration: { segmentation_strategy: 'LayoutAnalysis', ocr_strategy: 'Auto' },
  });
  await waitDone(sdk, fromDocument.task_id);
  const fromDocumentDone = await sdk.tasks.extract.get(fromDocument.task_id);

  return {
    created: fromTask,
    fromTask: fromTaskDone,
    fromDocument: fromDocumentDone,
    badSchema: await attempt(() => sdk.tasks.extract.create({ file: parse.task_id, schema: { type: 'tuple' } })),
    parseAsExtract: await attempt(() => sdk.tasks.extract.get(parse.task_id)),
  };
});

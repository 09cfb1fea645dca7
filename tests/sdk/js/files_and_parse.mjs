// Upload a PDF with files.create, parse it from its ch:// URL, read the task back every way the SDK offers.
// Stdin: {"pdf": base64 of a PDF}
import { toFile } from 'chunkr-ai';
import { attempt, client, input, main, waitDone } from './lib.mjs';

main(async () => {
  const sdk = client();
  const bytes = Buffer.from(input().pdf, 'base64');
  const health = await sdk.health.check();
  const fileTypes = await sdk.fileTypes.get();
  const file = await sdk.files.create({
    file: await toFile(bytes, 'report.pdf', { type: 'application/pdf' }),
    file_metadata: JSON.stringify({ team: 'finance' }),
  });
  const fetched = await sdk.files.get(file.file_id);
  const presigned = await sdk.files.url(file.file_id, { expires_in: 120 });
  const inline = await sdk.files.url(file.file_id, { base64_urls: true });
  const content = await sdk.files.content(file.file_id).asResponse();
  const contentBytes = Buffer.from(await content.arrayBuffer());
  const listed = [];
  for await (const f of sdk.files.list({ limit: 1 })) listed.push(f.file_id);

  const created = await sdk.tasks.parse.create({ file: file.url, ocr_strategy: 'Auto', expires_in: 3600 });
  const done = await waitDone(sdk, created.task_id);
  const full = await sdk.tasks.get(created.task_id, { include_chunks: true });
  const noChunks = await sdk.tasks.get(created.task_id, { include_chunks: false });
  const base64 = await sdk.tasks.parse.get(created.task_id, { base64_urls: true, include_chunks: true });
  const asExtract = await attempt(() => sdk.tasks.extract.get(created.task_id));
  const deleted = await sdk.files.delete(file.file_id);
  const afterDelete = await attempt(() => sdk.files.get(file.file_id));
  return {
    health,
    fileTypes,
    file,
    fetched,
    presigned,
    inlineUrlPrefix: inline.url.slice(0, 40),
    content: { status: content.status, type: content.headers.get('content-type'), size: contentBytes.length },
    listed,
    created,
    done,
    full,
    noChunks,
    base64,
    asExtract,
    deleted,
    afterDelete,
  };
});

// tasks.parse.create with each file form of contract §6.1 given on stdin, then wait for each.
// Stdin: JSON {"name": {"file": ..., "file_name": ...}, ...}
import { client, input, main, waitDone } from './lib.mjs';

main(async () => {
  const sdk = client();
  const inputs = input();
  const created = {};
  for (const [name, body] of Object.entries(inputs)) {
    created[name] = await sdk.tasks.parse.create({ ocr_strategy: 'Auto', ...body });
  }
  const results = {};
  for (const [name, task] of Object.entries(created)) {
    await waitDone(sdk, task.task_id);
    results[name] = await sdk.tasks.parse.get(task.task_id);
  }
  return results;
});

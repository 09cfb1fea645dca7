// A reviewed extraction read back through the SDK, both ways it offers. Stdin: JSON {"task_id": ...}
import { client, input, main } from './lib.mjs';

main(async () => {
  const sdk = client();
  const { task_id } = input();
  return { get: await sdk.tasks.get(task_id), extract: await sdk.tasks.extract.get(task_id) };
});

// tasks.cancel / tasks.delete and their state rules (contract §3.5, §3.6).
// Stdin: JSON {"slow": base64 of a long PDF, "quick": base64 of a short one}
import { attempt, client, input, main, waitDone } from './lib.mjs';

main(async () => {
  const sdk = client();
  const inputs = input();
  // Cancel right after creating: the task is Starting or Processing (a long document keeps it there).
  const slow = await sdk.tasks.parse.create({ file: inputs.slow, file_name: 'long.pdf' });
  const cancel = await attempt(() => sdk.tasks.cancel(slow.task_id));
  const cancelled = await waitDone(sdk, slow.task_id, 60_000);
  const cancelAgain = await attempt(() => sdk.tasks.cancel(slow.task_id));
  const deleteCancelled = await attempt(() => sdk.tasks.delete(slow.task_id));

  const quick = await sdk.tasks.parse.create({ file: inputs.quick });
  const succeeded = await waitDone(sdk, quick.task_id);
  const cancelSucceeded = await attempt(() => sdk.tasks.cancel(quick.task_id));
  const del = await attempt(() => sdk.tasks.delete(quick.task_id));
  const getDeleted = await attempt(() => sdk.tasks.get(quick.task_id));
  const deleteAgain = await attempt(() => sdk.tasks.delete(quick.task_id));
  return {
    cancel,
    cancelled,
    cancelAgain,
    deleteCancelled,
    succeeded,
    cancelSucceeded,
    del,
    getDeleted,
    deleteAgain,
  };
});

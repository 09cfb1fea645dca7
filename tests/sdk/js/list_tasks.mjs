// tasks.list: auto-pagination across small pages, manual pages, and the filters of contract §3.4.
import { attempt, client, main } from './lib.mjs';

async function ids(iterable) {
  const out = [];
  for await (const task of iterable) out.push(task.task_id);
  return out;
}

main(async () => {
  const sdk = client();
  const first = await sdk.tasks.list({ limit: 2 });
  const second = first.hasNextPage() ? await first.getNextPage() : null;
  return {
    all: await ids(sdk.tasks.list({ limit: 2 })),
    asc: await ids(sdk.tasks.list({ limit: 3, sort: 'asc' })),
    firstPage: { ids: first.tasks.map((t) => t.task_id), has_more: first.has_more, next_cursor: first.next_cursor },
    secondPage: second && second.tasks.map((t) => t.task_id),
    failedOrSucceeded: await ids(sdk.tasks.list({ statuses: ['Failed', 'Succeeded'], limit: 100 })),
    cancelled: await ids(sdk.tasks.list({ statuses: ['Cancelled'] })),
    parseOnly: await ids(sdk.tasks.list({ task_types: ['Parse'], limit: 100 })),
    extractOnly: await ids(sdk.tasks.list({ task_types: ['Extract'] })),
    future: await ids(sdk.tasks.list({ start: new Date(Date.now() + 86_400_000).toISOString() })),
    past: await ids(sdk.tasks.list({ end: '2000-01-01T00:00:00Z' })),
    withChunks: (await sdk.tasks.list({ include_chunks: true, statuses: ['Succeeded'] })).tasks.map(
      (t) => t.output?.chunks?.length ?? null,
    ),
    badStatus: await attempt(() => sdk.tasks.list({ statuses: ['Bogus'] })),
  };
});

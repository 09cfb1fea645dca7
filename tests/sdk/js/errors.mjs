// The error paths: wrong key, unknown ids, undecodable / unsupported input.
// Stdin: JSON {"garbage": base64 of junk bytes, "pdf": base64 of a PDF}
import { toFile } from 'chunkr-ai';
import { attempt, client, input, main } from './lib.mjs';

const UNKNOWN = '00000000-0000-0000-0000-000000000000';

main(async () => {
  const sdk = client();
  const inputs = input();
  const wrongKey = client({ apiKey: 'ck_wrong_key' });
  return {
    wrongKeyList: await attempt(() => wrongKey.tasks.list()),
    wrongKeyParse: await attempt(() => wrongKey.tasks.parse.create({ file: inputs.pdf })),
    wrongKeyHealth: await attempt(() => wrongKey.health.check()),
    unknownTask: await attempt(() => sdk.tasks.get(UNKNOWN)),
    unknownParse: await attempt(() => sdk.tasks.parse.get(UNKNOWN)),
    unknownCancel: await attempt(() => sdk.tasks.cancel(UNKNOWN)),
    unknownDelete: await attempt(() => sdk.tasks.delete(UNKNOWN)),
    weirdId: await attempt(() => sdk.tasks.get('not a/uuid?')),
    unknownFile: await attempt(() => sdk.files.get(UNKNOWN)),
    unknownChRef: await attempt(() => sdk.tasks.parse.create({ file: `ch://files/${UNKNOWN}` })),
    garbageBase64: await attempt(() => sdk.tasks.parse.create({ file: inputs.garbage })),
    notBase64: await attempt(() => sdk.tasks.parse.create({ file: '@@@ not base64 @@@' })),
    badEnum: await attempt(() => sdk.tasks.parse.create({ file: inputs.pdf, ocr_strategy: 'Sometimes' })),
    garbageUpload: await attempt(async () =>
      sdk.files.create({ file: await toFile(Buffer.from(inputs.garbage, 'base64'), 'junk.bin') }),
    ),
  };
});

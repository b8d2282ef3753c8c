/**
 * An expired Tencent download URL through the service: 410 with the origin's retcode/retmsg, one
 * request to the origin. The twin is reached through its real names (resolution intercepted in this
 * process, fail closed for every other Tencent name), so the QQ preset really acts.
 */
import {
  interceptLookup,
  labCerts,
  makePng,
  startTencentTwin,
  TENCENT_TWIN_NAMES,
  type TencentTwin,
} from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DetourServer, startServer } from '../src/index.js';
import { call } from './http.js';

let twin: TencentTwin;
let restoreLookup: () => void;
let server: DetourServer;

beforeAll(async () => {
  restoreLookup = interceptLookup(Object.fromEntries(TENCENT_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
  twin = await startTencentTwin({ files: { picture: { bytes: makePng(64), appid: 1407 } } });
  server = await startServer({
    port: 0,
    redetectMs: 0,
    detour: {
      allowPrivateNetwork: true, // the real names resolve to 127.0.0.1 here
      proxy: false,
      ca: labCerts().ca.cert,
      env: {},
      logLevel: 'silent',
      strategies: ['direct'], // in-process only: the interception covers this process
    },
  });
});
afterAll(async () => {
  await server?.close(1000);
  await twin?.close();
  restoreLookup?.();
});

describe('url-expired through detour serve', () => {
  it('410 with error.retcode/retmsg, exactly one origin request, nothing cached', async () => {
    const url = twin.downloadUrl('picture');
    twin.rotateKeys();
    for (let i = 1; i <= 2; i++) {
      const answer = await call(`${server.url}/v1/fetch?url=${encodeURIComponent(url)}&expect=image`);
      expect(answer.status).toBe(410);
      expect(answer.json()).toMatchObject({
        ok: false,
        error: {
          failureClass: 'url-expired',
          code: 'DETOUR_URL_EXPIRED',
          retcode: -5503007,
          retmsg: 'download url has expired',
        },
      });
      expect(twin.hits).toHaveLength(i); // a second call asks the origin again: nothing was cached
    }
  });

  it('the fresh URL is served (200)', async () => {
    const answer = await call(
      `${server.url}/v1/fetch?url=${encodeURIComponent(twin.downloadUrl('picture'))}&expect=image`,
    );
    expect(answer.status).toBe(200);
    expect(answer.headers['x-detour-format']).toBe('png');
  });
});

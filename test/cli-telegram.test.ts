/**
 * `detour fetch` with the telegram preset against the Telegram twin, end to end: the real CLI
 * binary runs in a private mount namespace whose /etc/hosts maps api.telegram.org to 127.0.0.1
 * (nothing else resolves). The bot token must appear in no output: --json on stdout, the
 * `--log-level debug` lines on stderr, human output.
 */
import {
  type HostsNamespace,
  hostsNamespace,
  hostsNamespaceSupport,
  makePng,
  startTelegramTwin,
  TELEGRAM_TWIN_NAMES,
  type TelegramTwin,
} from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detourIn } from './cli-run.js';

const support = hostsNamespaceSupport();
const PHOTO = makePng(32);
let twin: TelegramTwin;
let ns: HostsNamespace;

describe.skipIf(support !== true)(
  `detour fetch --telegram-token against the Telegram twin${support === true ? '' : ` — skipped: ${support}`}`,
  () => {
    beforeAll(async () => {
      twin = await startTelegramTwin({ files: { photo: { bytes: PHOTO } } });
      ns = hostsNamespace(Object.fromEntries(TELEGRAM_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
    });
    afterAll(async () => {
      await twin?.close();
      ns?.close();
    });

    it('a file link that 404s: url-expired, and the token is absent from --json and the debug log', async () => {
      const url = `${twin.apiBase}/file/bot${twin.token}/photos/gone.jpg`;
      const run = await detourIn(ns, [
        'fetch',
        url,
        '--json',
        '--log-level',
        'debug',
        '--allow-private',
        '--telegram-token',
        twin.token,
        '--telegram-api-base',
        twin.apiBase,
      ]);
      const stdout = run.stdout.toString();
      expect(run.code).toBe(1);
      expect(JSON.parse(stdout)).toMatchObject({ ok: false, error: { failureClass: 'url-expired' } });
      expect(stdout).toContain('bot***');
      expect(run.stderr.length).toBeGreaterThan(0); // the debug lines are there…
      expect(stdout + run.stderr).not.toContain(twin.token); // …without the token
      expect(stdout + run.stderr).not.toContain(twin.token.split(':')[1]);
    });

    it('a good file link, token from DETOUR_TELEGRAM_TOKEN: the file, human output without the token', async () => {
      const url = twin.fileUrl('photo');
      const run = await detourIn(ns, ['fetch', url, '-o', '-', '--log-level', 'debug', '--allow-private'], {
        DETOUR_TELEGRAM_TOKEN: twin.token,
        DETOUR_TELEGRAM_API_BASE: twin.apiBase,
      });
      expect(run.code).toBe(0);
      expect(Buffer.compare(run.stdout, PHOTO)).toBe(0);
      expect(run.stderr).not.toContain(twin.token);
    });
  },
);

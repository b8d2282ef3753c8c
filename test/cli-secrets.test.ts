/**
 * Issue 9, items 7 and 8, through the real CLI: `--json` `url`/`finalUrl`, failure messages,
 * usage errors and log lines mask URL credentials and secret query values (`--show-secrets`
 * prints them); a header with a control character is bad usage and never reaches the network.
 */
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detour, json } from './cli-run.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

const cli = (args: string[]) => detour(args, { NODE_EXTRA_CA_CERTS: lab.caPath });
/** A Tencent-style URL with credentials, an rkey and a token (and a harmless fileid). */
const secretUrl = (path: string) =>
  `${lab.https.url.replace('://', '://bot:PASSW0RDX@')}${path}?fileid=F1&rkey=RKEYSECRETX&token=TOKENSECRETX`;
const SECRETS = ['PASSW0RDX', 'RKEYSECRETX', 'TOKENSECRETX'];
const noSecret = (text: string) => {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
};

describe('secrets in CLI output', () => {
  it('--json masks url and finalUrl on success, and log lines carry no secret', async () => {
    const run = await cli([
      'fetch',
      secretUrl('/redirect/1'),
      '--json',
      '--allow-private',
      '--no-proxy',
      '--log-level',
      'debug',
    ]);
    expect(run.code).toBe(0);
    const out = json(run);
    expect(out.ok).toBe(true);
    expect(out.url).toBe(
      `${lab.https.url.replace('://', '://***:***@')}/redirect/1?fileid=F1&rkey=***&token=***`,
    );
    expect(String(out.finalUrl)).toContain('/image.png');
    noSecret(run.stdout.toString());
    expect(run.stderr).toContain('"level":'); // debug logs were written ...
    noSecret(run.stderr); // ... without a secret
  });

  it('--json masks url and messages on failure; the plain failure line too', async () => {
    const run = await cli(['fetch', secretUrl('/status/404'), '--json', '--allow-private', '--no-proxy']);
    expect(run.code).toBe(1);
    const out = json(run);
    expect(out.ok).toBe(false);
    expect(String(out.url)).toContain('rkey=***');
    expect((out.error as { message: string }).message).toContain('HTTP 404');
    noSecret(run.stdout.toString() + run.stderr);
    const plain = await cli(['fetch', secretUrl('/status/404'), '--allow-private', '--no-proxy']);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('HTTP 404');
    noSecret(plain.stdout.toString() + plain.stderr);
  });

  it('--show-secrets prints them, for debugging', async () => {
    const url = secretUrl('/image.png');
    const run = await cli(['fetch', url, '--json', '--allow-private', '--no-proxy', '--show-secrets']);
    expect(run.code).toBe(0);
    expect(json(run).url).toBe(url);
  });

  it('usage errors mask the URL they quote', async () => {
    const bad = 'ftp://bot:PASSW0RDX@files.example/x?rkey=RKEYSECRETX&token=TOKENSECRETX';
    const run = await cli(['fetch', bad, '--json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('ftp://***:***@files.example/x?rkey=***&token=***');
    noSecret(run.stderr);
    const shown = await cli(['fetch', bad, '--json', '--show-secrets']);
    expect(shown.code).toBe(2);
    expect(shown.stderr).toContain('RKEYSECRETX');
  });
});

describe('header validation in the CLI', () => {
  it.each([
    ['CR LF', 'Authorization: Bearer TOKENSECRETX\r\nX-Injected: 1'],
    ['DEL', 'X-Bot: koishi\u007fTOKENSECRETX'],
    ['ESC', 'X-Bot: \u001b[31mTOKENSECRETX'],
  ])('-H with %s is bad usage (exit 2), names the header, never reaches the origin', async (_n, header) => {
    const before = lab.https.routes.hits('/headers');
    const run = await cli([
      'fetch',
      `${lab.https.url}/headers`,
      '--allow-private',
      '--no-proxy',
      '-H',
      header,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/forbidden character \(U\+00(0D|7F|1B)\)/);
    expect(run.stderr).not.toContain('TOKENSECRETX');
    expect(lab.https.routes.hits('/headers')).toBe(before);
  });
});

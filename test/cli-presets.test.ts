/**
 * `--preset`, `--discord-token`, `--telegram-token`: bad combinations are usage errors (exit 2)
 * before any request, and a token quoted back is never printed.
 */
import { describe, expect, it } from 'vitest';
import { detour } from './cli-run.js';

const URL_ = 'https://cdn.discordapp.com/attachments/1/2/a.png';

describe('detour fetch --preset', () => {
  it('--preset discord without a token: exit 2, says which flag or variable', async () => {
    const run = await detour(['fetch', URL_, '--preset', 'discord']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--preset discord needs --discord-token \(or DETOUR_DISCORD_TOKEN\)/);
  });

  it('an unknown preset: exit 2, lists the known ones', async () => {
    const run = await detour(['fetch', URL_, '--preset', 'myspace']);
    expect(run.code).toBe(2);
    // The front-end kit's one message (D86): the flag and the API/Koishi field, the value quoted.
    expect(run.stderr).toMatch(/--preset \/ presets takes qq, discord, telegram, got "myspace"/);
  });

  it('a malformed Telegram token from the environment: exit 2, the token not echoed', async () => {
    const run = await detour(['fetch', URL_], { DETOUR_TELEGRAM_TOKEN: 'not-a-token-SECRETPART' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/telegram/i);
    expect(run.stderr).not.toContain('SECRETPART');
  });
});

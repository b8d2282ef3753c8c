import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from '../packages/cli/src/args.js';
import { COMMANDS } from '../packages/cli/src/definitions.js';
import { detour } from './cli-run.js';

const cliVersion = (
  JSON.parse(readFileSync(new URL('../packages/cli/package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

describe('detour --help / --version', () => {
  it.each([['--version'], ['-V']])('%s prints the package version and exits 0', async (flag) => {
    const result = await detour([flag]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`${cliVersion}\n`);
    expect(result.stderr).toBe('');
  });

  it.each([['--help'], ['-h'], ['help']])('detour %s lists every command and exits 0', async (flag) => {
    const result = await detour([flag]);
    expect(result.code).toBe(0);
    const out = result.stdout.toString();
    expect(out).toMatch(/^usage: detour <command> \[options\]/);
    for (const command of COMMANDS)
      expect(out).toMatch(new RegExp(`^  ${command.name} +${command.summary.slice(0, 20)}`, 'm'));
    expect(out).toContain('-V, --version');
  });
});

describe.each(COMMANDS.map((c) => [c.name, c] as const))('detour %s --help', (name, spec) => {
  it.each([['--help'], ['-h']])(
    '%s: usage, every flag with its default, an example; exit 0',
    async (flag) => {
      const result = await detour([name, flag]);
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      const out = result.stdout.toString();
      expect(out.split('\n')[0]).toBe(`usage: detour ${name} ${spec.usage[0]}`);
      for (const option of spec.options) {
        // the flag's line, with its default somewhere in its (wrapped) help
        const at = out.indexOf(`--${option.name}${option.value ? ` ${option.value}` : ''}`);
        expect(at, `--${option.name}`).toBeGreaterThan(0);
        const block = out.slice(
          at,
          out.indexOf('\n  ', at + 1) === -1 ? undefined : out.indexOf('\n  -', at + 1),
        );
        expect(block.replace(/\s+/g, ' '), `--${option.name}`).toContain(`[default: ${option.default}]`);
        if (option.short) expect(out).toContain(`-${option.short}, --${option.name}`);
      }
      expect(out).toContain('-h, --help');
      expect(out).toMatch(/^examples?:\n {2}detour /m);
    },
  );

  it('--help wins over a bad flag or a missing argument (exit 0)', async () => {
    const result = await detour([name, '--no-such-flag', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toContain(`usage: detour ${name}`);
  });

  it('a bad flag names the help, not Node parser internals (exit 2)', async () => {
    const result = await detour([name, '--no-such-flag']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`see detour ${name} --help`);
    expect(result.stderr).not.toContain('To specify a positional argument');
  });

  it('the parser accepts exactly the flags the help lists', () => {
    for (const option of spec.options) {
      const args = option.type === 'string' ? [`--${option.name}`, 'x'] : [`--${option.name}`];
      expect(() => parse(spec, args), `--${option.name}`).not.toThrow();
      if (option.short) expect(() => parse(spec, [`-${option.short}`, ...args.slice(1)])).not.toThrow();
    }
    expect(() => parse(spec, ['--not-in-the-definitions'])).toThrow(/unknown flag --not-in-the-definitions/);
  });
});

it('detour help fetch shows the fetch help', async () => {
  const result = await detour(['help', 'fetch']);
  expect(result.code).toBe(0);
  expect(result.stdout.toString()).toMatch(/^usage: detour fetch <url>/);
});

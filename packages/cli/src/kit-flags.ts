/**
 * The CLI's side of the front-end kit (`detour/front-end`): a command's flags as the kit's raw
 * options, validated by the kit's one function; its usage errors become the CLI's (exit 2).
 */
import {
  OPTIONS,
  type OptionName,
  type RawOptions,
  type ValidOptions,
  validateOptions,
} from 'detour/front-end';
import type { Flags } from './args.js';
import type { CommandSpec } from './definitions.js';
import { UsageError } from './io.js';

/** The kit's usage error (known by its code and option: the bundle may hold another copy of the class). */
function isKitUsageError(error: unknown): error is Error {
  return (
    error instanceof Error &&
    (error as { code?: string }).code === 'DETOUR_BAD_OPTION' &&
    typeof (error as { option?: unknown }).option === 'string'
  );
}

/** Run a kit check; its usage error is the CLI's (exit 2, the kit's message). */
export function checked<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (isKitUsageError(error)) throw new UsageError(error.message);
    throw error;
  }
}

/** The long flag name of a kit option (`-H` is `--header`). */
const flagName = (name: OptionName) => (OPTIONS[name].flag === '-H' ? 'header' : OPTIONS[name].flag.slice(2));

/** The kit options `spec` has a flag for, as given (booleans only when set). */
export function rawOptions(flags: Flags, spec: CommandSpec): RawOptions {
  const raw: RawOptions = {};
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const option = spec.options.find((o) => o.name === flagName(name));
    if (!option) continue;
    if (option.type === 'boolean') raw[name] = flags.bool(option.name) || undefined;
    else raw[name] = option.multiple ? flags.strings(option.name) : flags.string(option.name);
  }
  return raw;
}

/** A command's kit options, validated: typed values, or a UsageError with the kit's message. */
export function kitOptions(flags: Flags, spec: CommandSpec): ValidOptions {
  return checked(() => validateOptions(rawOptions(flags, spec)));
}

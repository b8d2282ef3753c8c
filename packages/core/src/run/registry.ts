/** The pipeline's strategies by name: unique names, checked lists, and the plan for a URL. */
import type { EnvironmentProvider } from '../environment.js';
import { DetourUsageError } from '../errors.js';
import type { FetchOptions, Stage, Strategy, StrategyInfo } from '../types/index.js';

export class StrategyRegistry {
  readonly #byName = new Map<string, Strategy>();
  readonly #defaultOrder: readonly string[] | undefined;
  readonly #environment: EnvironmentProvider | undefined;

  constructor(
    strategies: readonly Strategy[],
    defaultOrder: readonly string[] | undefined,
    environment: EnvironmentProvider | undefined,
  ) {
    for (const strategy of strategies) {
      if (this.#byName.has(strategy.name)) {
        throw new DetourUsageError(`two strategies are named ${strategy.name}`, 'DETOUR_DUPLICATE_STRATEGY');
      }
      this.#byName.set(strategy.name, strategy);
    }
    if (defaultOrder) this.check(defaultOrder);
    this.#defaultOrder = defaultOrder;
    this.#environment = environment;
  }

  get map(): ReadonlyMap<string, Strategy> {
    return this.#byName;
  }

  /** Names in registration order. */
  get names(): string[] {
    return [...this.#byName.keys()];
  }

  stageOf(name: string): Stage | undefined {
    return this.#byName.get(name)?.stage;
  }

  describe(): StrategyInfo[] {
    return [...this.#byName.values()].map(({ name, stage, reason, plaintext }) => ({
      name,
      ...(stage ? { stage } : {}),
      ...(reason ? { reason } : {}),
      ...(plaintext ? { plaintext } : {}),
    }));
  }

  /** The strategies to try for `url`, in order: the fetch's list, the pipeline's, else the environment's plan. */
  planFor(target: URL, options: Pick<FetchOptions, 'strategies'> = {}): string[] {
    const explicit = options.strategies ?? this.#defaultOrder;
    if (explicit) {
      this.check(explicit);
      return [...explicit];
    }
    const registered = this.names;
    const planned = this.#environment?.plan(registered, target, [...this.#byName.values()]) ?? registered;
    return planned.filter((name) => this.#byName.has(name));
  }

  /** Refuse an empty list or a name nobody registered. */
  check(names: readonly string[]): void {
    if (names.length === 0) throw new DetourUsageError('the strategy list is empty', 'DETOUR_NO_STRATEGY');
    const unknown = names.filter((n) => !this.#byName.has(n));
    if (unknown.length) {
      throw new DetourUsageError(
        `unknown strategy ${unknown.join(', ')} (registered: ${this.names.join(', ')})`,
        'DETOUR_UNKNOWN_STRATEGY',
      );
    }
  }
}

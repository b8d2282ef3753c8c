import type { Logger } from 'pino';
import type { InjectionToken } from 'tsyringe';
import type { EnvironmentProvider } from './environment.js';
import type { ResolvedPipelineOptions } from './options.js';
import type { Transport } from './transport/transport.js';
import type { Strategy } from './types.js';

/** Every strategy is registered under this token (multi-registration, order = registration order). */
export const STRATEGY: InjectionToken<Strategy> = Symbol.for('detour.Strategy');
export const LOGGER: InjectionToken<Logger> = Symbol.for('detour.Logger');
export const TRANSPORT: InjectionToken<Transport> = Symbol.for('detour.Transport');
export const ENVIRONMENT: InjectionToken<EnvironmentProvider> = Symbol.for('detour.Environment');
export const OPTIONS: InjectionToken<ResolvedPipelineOptions> = Symbol.for('detour.Options');
export const ROUTE_MEMORY: InjectionToken<unknown> = Symbol.for('detour.RouteMemory');
export const CACHE: InjectionToken<unknown> = Symbol.for('detour.Cache');

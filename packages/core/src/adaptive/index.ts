export {
  CIRCUIT_DEFAULTS,
  CircuitBreaker,
  type CircuitInfo,
  CircuitOpenError,
  type CircuitOptions,
  type CircuitState,
  type CircuitTicket,
} from './circuit.js';
export { originOf, routeKey } from './origin-key.js';
export {
  ROUTE_MEMORY_DEFAULTS,
  type RouteEntry,
  type RouteMemory,
  type RouteMemoryOptions,
  type RouteOutcome,
  type RoutePlan,
  routeWinner,
  StoreRouteMemory,
} from './route-memory.js';

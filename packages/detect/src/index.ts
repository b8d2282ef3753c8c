export { createEnvironment, DetectedEnvironment, type EnvironmentOptions } from './environment.js';
export {
  detectFakeIp,
  FAKE_IP_PROBE_NAMES,
  FAKE_IP_RANGES,
  type FakeIpProbe,
  type FakeIpReport,
} from './fake-ip.js';
export {
  identifyProxy,
  KNOWN_PROXY_PORTS,
  type LocalProxy,
  type LocalProxyProbe,
  probeLocalProxies,
} from './local-proxies.js';
export { type PacReport, pacFrom } from './pac.js';
export { captured, DEFAULT_STAGE, type Plan, type PlanOptions, plan, proxyInTheWay } from './plan.js';
export {
  type Env,
  type EnvProxySettings,
  envProxySettings,
  matchesNoProxy,
  type NoProxyEntry,
  normalizeProxyUrl,
  parseNoProxy,
  proxyEnvWarnings,
  proxyForUrl,
  proxyValueProblem,
} from './proxy-env.js';
export {
  type DetectOptions,
  detect,
  type EnvironmentReport,
  maskProxy,
  type ProxyReport,
  type ProxySource,
  type Sniffed,
  sniff,
} from './report.js';
export { REUSE_DEFAULT_MAX_AGE_MS, type ReuseOptions } from './reuse.js';
export {
  type CommandResult,
  type ReadText,
  type RunCommand,
  readTextFile,
  runCommand,
} from './run-command.js';
export {
  type NetworkSignals,
  networkFingerprint,
  networkSignals,
  type SignalOptions,
  signalsHash,
} from './signals.js';
export {
  detectSystemProxy,
  parseGnomeProxy,
  parseGsettings,
  parseKdeProxy,
  parseKioslaverc,
  parseMacosProxy,
  parseRegQuery,
  parseScutil,
  parseWindowsProxy,
  type SystemProxy,
  type SystemProxyProbe,
  type SystemProxyResult,
  WINDOWS_INTERNET_SETTINGS,
} from './system-proxy/index.js';
export {
  detectTun,
  type InterfaceInfo,
  inTunRange,
  internetInterface,
  osInterfaces,
  parseProcNetIpv6Route,
  parseProcNetRoute,
  parseRouteGet,
  parseRouteTable,
  type RouteInfo,
  TUN_NAME_PATTERNS,
  type TunProbe,
  type TunReport,
  tunCandidates,
} from './tun.js';

/** The lab: real servers and proxies on 127.0.0.1 for tests, the demo and benchmarks. */
export {
  type AcceleratorOptions,
  type AcceleratorProxy,
  type AcceleratorStats,
  type BreakTargets,
  startAcceleratorProxy,
} from './accelerator.js';
export { makeApng, makeGif, makeWebp } from './animated.js';
export { type BlackHoleProxy, startBlackHoleProxy } from './black-hole.js';
export {
  answerClientHello,
  type BrokenTlsMode,
  type BrokenTlsServer,
  breakTls,
  startBrokenTlsServer,
} from './broken-tls.js';
export { type CertProblemOrigins, startCertProblemOrigins } from './cert-origins.js';
export { type CertPair, type LabCerts, labCerts, PLATFORM_CERT_NAMES, TENCENT_CERT_NAMES } from './certs.js';
export { type ChildSpec, findBinary, freePort, type RunningChild, startChild } from './child.js';
export {
  DISCORD_GONE_BODY,
  DISCORD_TWIN_NAMES,
  type DiscordAttachment,
  type DiscordHit,
  type DiscordRefreshCall,
  type DiscordTwin,
  type DiscordTwinOptions,
  startDiscordTwin,
} from './discord.js';
export { type RunningDns, startDnsmasq } from './dns.js';
export { answerQuery, type ScriptedDns, type ScriptedDnsOptions, startScriptedDns } from './dns-server.js';
export { type DowngradeOrigin, startDowngradeOrigin } from './downgrade.js';
export {
  GUARDED_SUFFIXES,
  HOSTS_CHECK_FAILED,
  type HostsNamespace,
  hostsNamespace,
  hostsNamespaceSupport,
  interceptLookup,
} from './hosts.js';
export { LAB_PROXY_AUTH, type Lab, startLab } from './lab.js';
export {
  type LegacyOrigin,
  type LegacyTlsProfile,
  RELAXED_TLS,
  RELAXED_TLS_ALL_CIPHERS,
  startLegacyHttpsOrigin,
} from './legacy.js';
export { type Listening, LOOPBACK, listenTracked } from './listen.js';
export { type Mp3Frames, readMp3Frames } from './mp3-frames.js';
export {
  type FastNginxOrigin,
  type NginxOrigin,
  startNginxLegacyOrigin,
  startNginxOrigin,
} from './nginx.js';
export {
  cqEscape,
  imageSegment,
  messageEvent,
  type OneBot,
  type OneBotAction,
  type OneBotCall,
  type OneBotEvent,
  type OneBotOptions,
  type OneBotParams,
  type OneBotSegment,
  recordSegment,
  startOneBot,
  toCqString,
} from './onebot.js';
export { LAB_PNG, makePng, PNG_MAGIC } from './png.js';
export { type CurlResult, curl, type ProbeOptions, type ProbeResponse, probe } from './probe.js';
export {
  type ProxyAuth,
  type RunningProxy,
  startMicrosocks,
  startTinyproxy,
  type TinyproxyOptions,
} from './proxies.js';
export { type RunningRedis, startRedis } from './redis.js';
export { createRoutes, type Routes } from './routes.js';
export { type HttpsOriginOptions, type Origin, startHttpOrigin, startHttpsOrigin } from './servers.js';
export { resetSocket } from './sockets.js';
export {
  startTelegramTwin,
  TELEGRAM_TWIN_NAMES,
  type TelegramHit,
  type TelegramTwin,
  type TelegramTwinOptions,
} from './telegram.js';
export {
  type DownloadUrlOptions,
  encodeFileId,
  type FileIdOptions,
  HOTLINK_PLACEHOLDER,
  type OneBotApi,
  startTencentTwin,
  TENCENT_TWIN_NAMES,
  type TencentTwin,
  type TencentTwinOptions,
  type Truncation,
  type TwinFile,
  type TwinFileSpec,
  type TwinHit,
} from './tencent.js';
export {
  HANDSHAKE_FAILURE_ALERT,
  looksLikeTls,
  PROTOCOL_VERSION_ALERT,
  serverHelloWithoutRenegotiationInfo,
} from './tls-records.js';
export { makeSilkClip, type SilkClipOptions, sineTone } from './voice.js';

/** The lab: real servers and proxies on 127.0.0.1 for tests, the demo and benchmarks. */
export { type CertPair, type LabCerts, labCerts } from './certs.js';
export { findBinary, freePort, type RunningChild, startChild } from './child.js';
export { LAB_PROXY_AUTH, type Lab, startLab } from './lab.js';
export { type Listening, LOOPBACK, listenTracked } from './listen.js';
export { LAB_PNG, makePng, PNG_MAGIC } from './png.js';
export {
  type ProxyAuth,
  type RunningProxy,
  startMicrosocks,
  startTinyproxy,
  type TinyproxyOptions,
} from './proxies.js';
export { createRoutes, type Routes } from './routes.js';
export { type HttpsOriginOptions, type Origin, startHttpOrigin, startHttpsOrigin } from './servers.js';
export { resetSocket } from './sockets.js';

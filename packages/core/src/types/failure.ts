/** Every way a fetch can fail, as seen by the orchestrator. */
export type FailureClass =
  | 'tls-handshake'
  | 'tls-protocol'
  | 'tls-certificate'
  | 'dns'
  | 'connect-refused'
  | 'connect-reset'
  | 'timeout'
  | 'proxy'
  | 'http-status'
  | 'content-invalid'
  | 'too-large'
  | 'blocked'
  | 'aborted'
  | 'unavailable'
  | 'url-expired'
  | 'local-io'
  | 'unknown';

export const FAILURE_CLASSES: readonly FailureClass[] = [
  'tls-handshake',
  'tls-protocol',
  'tls-certificate',
  'dns',
  'connect-refused',
  'connect-reset',
  'timeout',
  'proxy',
  'http-status',
  'content-invalid',
  'too-large',
  'blocked',
  'aborted',
  'unavailable',
  'url-expired',
  'local-io',
  'unknown',
];

/**
 * The relaxed cipher list every TLS-relaxing strategy uses (tls-relaxed in-process, curl with
 * `relaxTls`), measured against the lab's legacy origins (packages/tls-relaxed/README.md):
 * `DEFAULT:@SECLEVEL=0` leaves out Camellia-only servers; `ALL` takes them but also offers
 * anonymous suites; this list keeps what `ALL` rescues and drops the unauthenticated (`aNULL`)
 * and unencrypted (`eNULL`) suites. One constant, since no strategy may import another.
 */
export const RELAXED_CIPHERS = 'ALL:!aNULL:!eNULL:@SECLEVEL=0';

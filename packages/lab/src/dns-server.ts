/**
 * A tiny authoritative DNS server on UDP (loopback, or port 53 inside a network namespace a test
 * created): answers A queries for the names it is given, in sequence — so a name can *rebind*
 * (first answer public, the next 127.0.0.1), which dnsmasq cannot do. TTL 0, no recursion; AAAA
 * gets an empty answer, unknown names NXDOMAIN. It counts A queries per name, so a test can tell
 * how many times a client resolved a name.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { isIP } from 'node:net';

export interface ScriptedDns {
  readonly port: number;
  /** `127.0.0.1:PORT` */
  readonly server: string;
  /** A queries seen for `name` (lower case, no trailing dot). */
  queries(name: string): number;
  close(): Promise<void>;
}

export interface ScriptedDnsOptions {
  /** IPv4 answers per name: query n (0-based) gets `answers[min(n, last)]`. */
  readonly records: Readonly<Record<string, readonly string[]>>;
  readonly port?: number;
  readonly host?: string;
}

const TYPE_A = 1;

function readName(msg: Buffer, offset: number): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let at = offset;
  while (at < msg.length) {
    const len = msg[at]!;
    if (len === 0) return { name: labels.join('.').toLowerCase(), end: at + 1 };
    if (len > 63 || at + 1 + len > msg.length) return undefined; // no compression in questions
    labels.push(msg.subarray(at + 1, at + 1 + len).toString('latin1'));
    at += 1 + len;
  }
  return undefined;
}

/** The answer to one query, or undefined for a packet that is not a query. */
export function answerQuery(
  msg: Buffer,
  lookup: (name: string) => readonly string[] | undefined,
): Buffer | undefined {
  if (msg.length < 12 || (msg[2]! & 0x80) !== 0 || msg.readUInt16BE(4) !== 1) return undefined;
  const question = readName(msg, 12);
  if (!question || question.end + 4 > msg.length) return undefined;
  const qtype = msg.readUInt16BE(question.end);
  const questionBytes = msg.subarray(12, question.end + 4);
  const addresses = lookup(question.name);
  const answers = qtype === TYPE_A && addresses ? addresses.filter((a) => isIP(a) === 4) : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(msg.readUInt16BE(0), 0); // id
  // QR, AA, RD copied; RCODE 3 (NXDOMAIN) for an unknown name.
  header.writeUInt16BE(0x8400 | ((msg[2]! & 0x01) * 0x100) | (addresses ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const records = answers.map((address) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    rr.writeUInt16BE(TYPE_A, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(0, 6); // TTL 0: never cached
    rr.writeUInt16BE(4, 10);
    address.split('.').forEach((part, i) => {
      rr[12 + i] = Number(part);
    });
    return rr;
  });
  return Buffer.concat([header, questionBytes, ...records]);
}

export async function startScriptedDns(options: ScriptedDnsOptions): Promise<ScriptedDns> {
  const counts = new Map<string, number>();
  const records = new Map(Object.entries(options.records).map(([k, v]) => [k.toLowerCase(), v]));
  const socket = createSocket('udp4');
  socket.on('message', (msg: Buffer, from: RemoteInfo) => {
    const reply = answerQuery(msg, (name) => {
      const sequence = records.get(name);
      if (!sequence) return undefined;
      const isA = msg.readUInt16BE(readName(msg, 12)!.end) === TYPE_A;
      const n = counts.get(name) ?? 0;
      if (isA) counts.set(name, n + 1);
      return [sequence[Math.min(n, sequence.length - 1)]!];
    });
    if (reply) socket.send(reply, from.port, from.address);
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;
  let closing: Promise<void> | undefined;
  return {
    port,
    server: `${options.host ?? '127.0.0.1'}:${port}`,
    queries: (name) => counts.get(name.toLowerCase()) ?? 0,
    close() {
      closing ??= new Promise<void>((resolve) => socket.close(() => resolve()));
      return closing;
    },
  };
}

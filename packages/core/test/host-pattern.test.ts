import { describe, expect, it } from 'vitest';
import { hostMatches } from '../src/internal.js';

describe('hostMatches', () => {
  it.each([
    ['multimedia.nt.qq.com.cn', ['multimedia.nt.qq.com.cn'], true],
    ['MULTIMEDIA.nt.qq.com.cn.', ['multimedia.nt.qq.com.cn'], true],
    ['gchat.qpic.cn', ['*.qpic.cn'], true],
    ['a.b.qpic.cn', ['*.qpic.cn'], true],
    ['qpic.cn', ['*.qpic.cn'], false],
    ['evilqpic.cn', ['*.qpic.cn'], false],
    ['anything.example', ['*'], true],
    ['[::1]', ['::1'], true],
    ['example.com', [], false],
    ['example.com', [' ', ''], false],
  ])('%s in %j → %s', (host, patterns, expected) => {
    expect(hostMatches(host, patterns)).toBe(expected);
  });
});

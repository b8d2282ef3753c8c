import { describe, expect, it } from 'vitest';
import { describeRoute, redactUrl, stripCredentials } from '../src/index.js';

describe('redaction', () => {
  it('masks credentials and secret query values, keeps the rest', () => {
    const out = redactUrl(
      'https://u:p@multimedia.nt.qq.com.cn/download?appid=1407&fileid=abc&rkey=SECRET123&x=1',
    );
    expect(out).not.toContain('SECRET123');
    expect(out).not.toContain('u:p');
    expect(out).toContain('fileid=abc');
    expect(out).toContain('rkey=***');
  });
  it('never throws on garbage', () => {
    expect(redactUrl('not a url')).toBe('[invalid url]');
  });
  it('routes carry no credentials', () => {
    expect(stripCredentials('http://alice:s3cret@127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(describeRoute({ kind: 'socks', url: 'socks5://bob:pw@127.0.0.1:1080' })).toBe(
      'socks5://127.0.0.1:1080',
    );
    expect(describeRoute({ kind: 'direct' })).toBe('direct');
  });
});

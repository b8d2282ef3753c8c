import { describe, expect, it } from 'vitest';
import { describeRoute, redactText, redactUrl, stripCredentials } from '../src/internal.js';

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

  it.each([
    ['sign (Tencent-style signatures)', 'https://a.example/x?sign=S3CRET&n=1', 'sign=***&n=1'],
    ['any case', 'https://a.example/x?RKey=S3CRET', 'RKey=***'],
    ['a percent-encoded name', 'https://a.example/x?r%6Bey=S3CRET', 'r%6Bey=***'],
    ['`;` as a separator', 'https://a.example/x?a=1;token=S3CRET', 'a=1;token=***'],
    ['every repeat', 'https://a.example/x?key=S3CRET&key=S3CRET2', 'key=***&key=***'],
    ['the fragment', 'https://a.example/x#access_token=S3CRET&state=1', '#access_token=***&state=1'],
    ['a password without a user', 'https://:S3CRET@a.example/x', 'https://:***@a.example/x'],
  ])('masks %s and keeps the rest as written', (_n, url, kept) => {
    const out = redactUrl(url);
    expect(out).not.toContain('S3CRET');
    expect(out).toContain(kept);
  });

  it('keeps a URL without secrets byte for byte (after URL normalisation)', () => {
    const url = 'https://a.example/p%20q?fileid=A%2FB&n=1+2&empty=&flag';
    expect(redactUrl(url)).toBe(new URL(url).href);
  });

  it('takes a URL object without changing it, and masks it like its string', () => {
    for (const href of [
      'https://u:p@a.example/x?rkey=S3CRET&n=1#sig=S3CRET',
      'https://a.example/x?r%6Bey=S3CRET',
      'https://a.example/x?api+key=1&session+id=2',
      'https://a.example/x?n=1&bytes=10240',
    ]) {
      const url = new URL(href);
      expect(redactUrl(url)).toBe(redactUrl(href));
      expect(url.href).toBe(new URL(href).href);
    }
    expect(redactUrl(new URL('https://a.example/x?n=1'))).toBe('https://a.example/x?n=1');
  });

  it('masks URLs and secret pairs in free text (error messages, usage lines)', () => {
    const text = redactText(
      'not an http(s) URL: "ftp://bob:S3CRET@h.example/x?token=S3CRET2" (also rkey=S3CRET3, fileid=ok)',
    );
    expect(text).not.toMatch(/S3CRET/);
    expect(text).toContain('ftp://***:***@h.example/x?token=***');
    expect(text).toContain('fileid=ok');
    // A broken URL echoed back still loses its credentials and secret values.
    const broken = redactText('not a valid URL: "http://bob:S3CRET@[bad/x?sig=S3CRET2"');
    expect(broken).not.toMatch(/S3CRET/);
  });
});

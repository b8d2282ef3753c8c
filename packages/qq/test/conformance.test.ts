/** The qq preset keeps the preset contract (`testPreset` from @detour/core/testing). */
import { testPreset } from '@detour/core/testing';
import { qqPreset } from '../src/index.js';

testPreset({
  label: 'qq',
  preset: () => qqPreset(),
  handles: [
    'https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=abc&rkey=SECRETRKEYVALUE',
    'https://gchat.qpic.cn/gchatpic_new/0/0-0-0123456789ABCDEF0123456789ABCDEF/0',
  ],
  ignores: ['https://example.test/download?rkey=x', 'https://cdn.discordapp.com/attachments/1/2/a.png'],
  sameCacheKey: [
    [
      'https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=abc&rkey=ONE',
      'https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=abc&rkey=TWO',
    ],
  ],
  secrets: [
    [
      'https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=abc&rkey=SECRETRKEYVALUE',
      'SECRETRKEYVALUE',
    ],
  ],
});

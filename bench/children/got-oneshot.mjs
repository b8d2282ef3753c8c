// The baseline of bench figure 9: a one-shot script that imports got and downloads one URL.
import got from 'got';

const body = await got(process.argv[2]).buffer();
process.stdout.write(`${body.length}\n`);

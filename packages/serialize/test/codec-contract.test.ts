import { serialize } from 'node:v8';
import { codecContract } from '@conc/testkit';
import { jsonCodec, msgpackCodec, plainMsgpackCodec, v8Codec } from '../src/index.js';
import { jsonValues, msgpackValues, plainValues, v8Values } from './arbitraries.js';

const ascii = (s: string) => Buffer.from(s, 'latin1');
const str = (s: string) => Buffer.concat([Buffer.from([0xa0 | s.length]), ascii(s)]);
// { "__proto__": { "polluted": "yes" }, "constructor": { "prototype": { "polluted": "yes" } } } in msgpack.
const pollutedMap = Buffer.concat([
  Buffer.from([0x82]),
  str('__proto__'),
  Buffer.from([0x81]),
  str('polluted'),
  str('yes'),
  str('constructor'),
  Buffer.from([0x81]),
  str('prototype'),
  Buffer.from([0x81]),
  str('polluted'),
  str('yes'),
]);
// The same as a msgpackr record (definition ext 0x72, structure id 0x40), behind the records mark.
const pollutedRecord = Buffer.concat([
  Buffer.from([0xc1, 0xd4, 0x72, 0x40, 0x92]),
  str('__proto__'),
  str('constructor'),
  Buffer.from([0x81]),
  str('polluted'),
  str('yes'),
  Buffer.from([0x81]),
  str('prototype'),
  Buffer.from([0x81]),
  str('polluted'),
  str('yes'),
]);
const pollutedJson = Buffer.from(
  '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"x":{"__proto__":[1]}}',
);

codecContract('msgpack', msgpackCodec, {
  values: msgpackValues,
  hostile: [pollutedMap, pollutedRecord],
  budget: true,
});
codecContract('msgpack-plain', plainMsgpackCodec, {
  values: plainValues,
  hostile: [pollutedMap],
  budget: true,
});
codecContract('json', jsonCodec, { values: jsonValues, hostile: [pollutedJson], budget: true });
codecContract('v8', v8Codec, {
  values: v8Values,
  budget: true,
  hostile: [serialize(JSON.parse(pollutedJson.toString()))],
});

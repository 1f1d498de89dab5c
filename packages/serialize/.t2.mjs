import { Packr, Unpackr } from 'msgpackr';

const p = new Packr({ useRecords: false, structuredClone: true, moreTypes: true });
const u = new Unpackr({ useRecords: false, structuredClone: true, moreTypes: true, mapsAsObjects: true });
const v = { '': { '': null } };
const b = p.pack(v);
console.log('normal', JSON.stringify(u.unpack(b)));
// decode a message with a non-ascii key out of a SAB-backed buffer (native extractor throws)
const bad = p.pack({ é: 1 });
const sab = new Uint8Array(new SharedArrayBuffer(bad.length));
sab.set(bad);
try {
  u.unpack(Buffer.from(sab.buffer));
} catch (e) {
  console.log('sab error', e.message);
}
console.log('after', JSON.stringify(u.unpack(b)));
const sab2 = new Uint8Array(new SharedArrayBuffer(b.length));
sab2.set(b);
try {
  console.log('sab2', JSON.stringify(u.unpack(Buffer.from(sab2.buffer))));
} catch (e) {
  console.log('sab2 error', e.message);
}
console.log('after2', JSON.stringify(u.unpack(b)));

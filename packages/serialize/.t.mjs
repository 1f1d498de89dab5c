import { Packr, Unpackr } from 'msgpackr';

const p = new Packr({ useRecords: false, structuredClone: true, moreTypes: true });
const u = new Unpackr({ useRecords: false, structuredClone: true, moreTypes: true, mapsAsObjects: true });
for (const v of [{ '': { '': null } }, { '': 1 }, { a: { '': 2 } }, [{ '': 1 }, { '': 2 }]]) {
  const b = p.pack(v);
  console.log(Buffer.from(b).toString('hex'), JSON.stringify(u.unpack(b)), JSON.stringify(u.unpack(b)));
}

import { describe, expect, it } from 'vitest';
import { frameRef } from './keyimages';
import { valueText } from './TagBrowser';

describe('frameRef', () => {
  it.each([
    { id: 'wadors:http://h/dicomweb/studies/1.2/series/1.2.3/instances/1.2.3.4/frames/7', want: { series: '1.2.3', sop: '1.2.3.4', frame: 7 } },
    { id: 'wadouri:http://h/file.dcm', want: null },
  ])('$id', (c) => expect(frameRef(c.id)).toEqual(c.want));
});

describe('valueText', () => {
  it.each([
    { a: { vr: 'DS', Value: [0.5, 0.5] }, want: '0.5\\0.5' },
    { a: { vr: 'PN', Value: [{ Alphabetic: 'DOE^JANE' }] }, want: 'DOE^JANE' },
    { a: { vr: 'SQ', Value: [{}, {}] }, want: '2 item(s)' },
    { a: { vr: 'OW', BulkDataURI: 'x' }, want: '(bulk data)' },
    { a: { vr: 'LO' }, want: '' },
  ])('$a.vr', (c) => expect(valueText(c.a)).toBe(c.want));
});

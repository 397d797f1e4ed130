import { describe, expect, it } from 'vitest';
import { boundaryOf, firstPart, transferSyntaxOf } from './frames';

const te = new TextEncoder();

describe('multipart', () => {
  const ct = 'multipart/related; type="application/dicom"; boundary=XyZ';
  const body = te.encode(
    '--XyZ\r\nContent-Type: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1\r\nContent-Length: 4\r\n\r\nabcd' +
      '\r\n--XyZ\r\nContent-Length: 3\r\nContent-Location: http://h/x/instances/1.2.3\r\n\r\nefg\r\n--XyZ--\r\n',
  );
  it('reads the first part of a held body', () => {
    const p = firstPart(body, boundaryOf(ct));
    expect(new TextDecoder().decode(p!.data)).toBe('abcd');
    expect(transferSyntaxOf(p!.headers['content-type'])).toBe('1.2.840.10008.1.2.1');
  });
});

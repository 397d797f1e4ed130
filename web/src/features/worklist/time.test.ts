import { describe, expect, it } from 'vitest';
import { age, countdown, localTime } from './time';

describe('countdown', () => {
  const now = Date.parse('2026-03-08T07:30:00Z');
  it.each([
    ['2026-03-08T08:35:09Z', '1:05:09', 'ok'],
    ['2026-03-08T07:40:00Z', '0:10:00', 'soon'],
    ['2026-03-08T07:28:00Z', '-0:02:00', 'late'],
    // a deadline written with an offset is the same instant
    ['2026-03-08T02:35:09-06:00', '1:05:09', 'ok'],
  ])('%s', (deadline, text, risk) => {
    const c = countdown(deadline, now)!;
    expect(c.text).toBe(text);
    expect(c.risk).toBe(risk);
  });
  it('is null without a deadline', () => {
    expect(countdown(undefined, now)).toBeNull();
    expect(countdown('not a date', now)).toBeNull();
  });
});

describe('localTime across time zones', () => {
  // 2026-03-08 is the US spring-forward day: 07:30Z is 01:30 CST, 10:30Z is 05:30 CDT.
  it.each([
    ['America/Chicago', '2026-03-08T07:30:00Z', '01:30 CST'],
    ['America/Chicago', '2026-03-08T10:30:00Z', '05:30 CDT'],
    ['Pacific/Honolulu', '2026-03-08T10:30:00Z', '00:30 HST'],
    ['America/Phoenix', '2026-07-01T19:00:00Z', '12:00 MST'],
  ])('%s at %s', (tz, at, want) => {
    expect(localTime(tz, Date.parse(at))).toBe(want);
  });
  it('is empty for an unknown zone', () => {
    expect(localTime('Mars/Olympus', 0)).toBe('');
  });
});

describe('age', () => {
  it.each([
    ['19800308', '2026-03-08T00:00:00Z', '46'],
    ['19800309', '2026-03-08T00:00:00Z', '45'],
    ['', '2026-03-08T00:00:00Z', ''],
  ])('%s', (b, now, want) => expect(age(b, Date.parse(now))).toBe(want));
});

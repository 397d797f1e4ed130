import { describe, expect, it } from 'vitest';
import type { DicomJSON } from '../../api/types';
import { hangMG4up, hangMR2x2, mgFlip, protocolFor, rankPriors } from './hanging';

const d = (o: Record<string, string | string[]>): DicomJSON =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, { vr: 'CS', Value: Array.isArray(v) ? v : [v] }]));

describe('protocolFor', () => {
  it.each([
    { mod: 'CT', part: 'CHEST', prefs: {}, want: 'prior-beside' },
    { mod: 'MR', part: 'HEAD', prefs: {}, want: 'mr-2x2' },
    { mod: 'MR', part: 'KNEE', prefs: {}, want: 'prior-beside' },
    { mod: 'MG', part: 'BREAST', prefs: {}, want: 'mg-4up' },
    { mod: 'CR', part: 'CHEST', prefs: {}, want: 'single' },
    { mod: 'CT', part: 'CHEST', prefs: { CT: 'single' }, want: 'single' },
    { mod: 'MR', part: 'HEAD', prefs: { MR: 'single', 'MR HEAD': 'prior-beside' }, want: 'prior-beside' },
    { mod: 'CT', part: '', prefs: { CT: 'carousel' }, want: 'prior-beside' },
  ])('$mod $part with $prefs → $want', (c) => expect(protocolFor(c.mod, c.part, c.prefs as Record<string, string>)).toBe(c.want));
});

describe('rankPriors', () => {
  const cur = d({ '0020000D': 'cur', '00080061': ['CT'], '00080020': '20260301', '00081030': 'CT CHEST' });
  const priors = [
    d({ '0020000D': 'mr-new', '00080061': ['MR'], '00080020': '20260201', '00081030': 'MR BRAIN' }),
    d({ '0020000D': 'ct-head', '00080061': ['CT'], '00080020': '20260101', '00081030': 'CT HEAD' }),
    d({ '0020000D': 'ct-chest-old', '00080061': ['CT'], '00080020': '20240101', '00081030': 'CT CHEST' }),
    d({ '0020000D': 'ct-chest', '00080061': ['CT', 'SR'], '00080020': '20250101', '00081030': 'CT CHEST' }),
    d({ '0020000D': 'cur', '00080061': ['CT'], '00080020': '20260301' }),
  ];
  it('same modality and body part first, then same modality, newest first', () =>
    expect(rankPriors(cur, priors, 'CHEST').map((p) => p['0020000D'].Value?.[0])).toEqual(['ct-chest', 'ct-chest-old', 'ct-head', 'mr-new']));
});

describe('hangMR2x2', () => {
  const se = (uid: string, desc: string) => d({ '0020000E': uid, '0008103E': desc, '00201209': '20' });
  it('picks T1, T2, FLAIR, DWI by description', () =>
    expect(hangMR2x2('st', [se('a', 'LOC'), se('b', 'AX DWI B1000'), se('c', 'AX T2 FLAIR'), se('e', 'SAG T1 MPRAGE'), se('f', 'AX T2 TSE')])
      .map((p) => `${p.label}:${p.series}`)).toEqual(['T1:e', 'T2:f', 'FLAIR:c', 'DWI:b']));
  it('fills a missing sequence with another series', () =>
    expect(hangMR2x2('st', [se('a', 'LOC'), se('e', 'T1'), se('f', 'T2')]).map((p) => p.series)).toEqual(['e', 'f', 'a']));
});

describe('mammography', () => {
  const img = (sop: string, lat: string, view: string, orient: string[]) =>
    ({ study: 'x', series: 's', inst: d({ '00080018': sop, '00200062': lat, '00185101': view, '00200020': orient }) });
  it.each([
    { lat: 'R', orient: ['P', 'L'], flip: false },
    { lat: 'R', orient: ['A', 'R'], flip: true },
    { lat: 'L', orient: ['A', 'R'], flip: false },
    { lat: 'L', orient: ['P', 'L'], flip: true },
    { lat: 'L', orient: [], flip: false },
  ])('$lat rows towards $orient flipped: $flip', (c) => expect(mgFlip(img('1', c.lat, 'CC', c.orient).inst)).toBe(c.flip));
  it('hangs current RCC LCC RMLO LMLO over the prior, mirrored', () => {
    const cur = [img('c4', 'L', 'MLO', ['A', 'FR']), img('c1', 'R', 'CC', ['P', 'L']), img('c2', 'L', 'CC', ['P', 'L']), img('c3', 'R', 'MLO', ['P', 'FL'])];
    const prior = [img('p1', 'R', 'CC', ['P', 'L']), img('p2', 'L', 'CC', ['A', 'R']), img('p3', 'R', 'MLO', ['P', 'FL']), img('p4', 'L', 'MLO', ['A', 'FR'])];
    const h = hangMG4up(cur, prior);
    expect(h.map((p) => `${p.sop}${p.flip ? '*' : ''}`)).toEqual(['c1', 'c2*', 'c3', 'c4', 'p1', 'p2', 'p3', 'p4']);
    expect(h[0].label).toBe('Current RCC');
    expect(h[7].label).toBe('Prior LMLO');
  });
});

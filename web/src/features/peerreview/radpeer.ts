import type { RadpeerScore } from '../../api/types';

// ACR RADPEER scores (2016 revision) with their meaning, for the score form.
export const SCORES: { score: RadpeerScore; label: string }[] = [
  { score: '1', label: 'Concur with interpretation' },
  { score: '2a', label: 'Discrepancy, not ordinarily expected to be made; unlikely clinically significant' },
  { score: '2b', label: 'Discrepancy, not ordinarily expected to be made; likely clinically significant' },
  { score: '3a', label: 'Discrepancy, should be made most of the time; unlikely clinically significant' },
  { score: '3b', label: 'Discrepancy, should be made most of the time; likely clinically significant' },
];

// needsComment: any discrepancy (2 or 3) must say what was missed.
export const needsComment = (s: RadpeerScore) => s !== '1';

// goesToArbitration: 2b and above go to a second reviewer.
export const goesToArbitration = (s: RadpeerScore) => s === '2b' || s === '3a' || s === '3b';

// percent formats a rate (0..1) as a whole percentage.
export const percent = (r: number) => `${Math.round(r * 100)} %`;

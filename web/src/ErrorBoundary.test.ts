import { describe, expect, it } from 'vitest';
import { isValidElement, type ReactElement, type ReactNode } from 'react';
import { ErrorBoundary } from './ErrorBoundary';

// The text a rendered tree shows, without a DOM.
function text(n: ReactNode): string {
  if (n === null || n === undefined || typeof n === 'boolean') return '';
  if (typeof n === 'string' || typeof n === 'number') return String(n);
  if (Array.isArray(n)) return n.map(text).join('');
  if (isValidElement(n)) return text((n as ReactElement<{ children?: ReactNode }>).props.children);
  return '';
}

describe('ErrorBoundary', () => {
  it('shows its children until one throws, then names the part and the error', () => {
    const b = new ErrorBoundary({ what: 'viewer', children: 'images' });
    expect(b.render()).toBe('images');
    b.state = ErrorBoundary.getDerivedStateFromError(new TypeError("Cannot read properties of undefined (reading 'toFixed')"));
    const shown = text(b.render());
    expect(shown).toContain('The viewer stopped working.');
    expect(shown).toContain("reading 'toFixed'");
    expect(shown).toContain('Try again');
  });

  it('takes a thrown value that is not an Error', () => {
    expect(ErrorBoundary.getDerivedStateFromError('lost')).toEqual({ error: 'lost' });
  });
});

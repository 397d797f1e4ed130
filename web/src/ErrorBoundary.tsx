// ErrorBoundary keeps one failing part of a screen from blanking the whole
// app: React unmounts everything up to the nearest boundary when a component
// throws while rendering, so without one a reader would be left with an
// empty dark page and no word of what happened. The failed part is replaced
// by a plain message and a way to try again; what lies outside it (the top
// bar, the report beside a failed viewer) stays as it was.
import { Component, type ReactNode } from 'react';

type Props = { what: string; children: ReactNode };
type State = { error: string | null };

export class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null };

  static getDerivedStateFromError(e: unknown): State {
    return { error: e instanceof Error ? e.message : String(e) };
  }

  render() {
    if (this.state.error === null) return this.props.children;
    return (
      <div className="failed-part" role="alert" data-testid="failed-part">
        <p><strong>The {this.props.what} stopped working.</strong> {this.state.error}</p>
        <p className="muted">Nothing you entered elsewhere on this page is lost.</p>
        <button onClick={() => this.setState({ error: null })}>Try again</button>{' '}
        <button onClick={() => location.reload()}>Reload the page</button>
      </div>
    );
  }
}

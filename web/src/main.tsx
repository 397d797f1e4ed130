import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { SessionProvider } from './features/auth/session';
import { startCase } from './features/viewer/LazyViewer';
import './styles.css';

// A case's address opened from scratch: its first image's requests and the
// viewer's code start now, alongside the session check and the app's
// first render, not after them (LazyViewer.tsx startCase).
const opening = /^\/case\/(.+)$/.exec(location.pathname);
if (opening) startCase(decodeURIComponent(opening[1]));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SessionProvider>
      <App />
    </SessionProvider>
  </StrictMode>,
);

import { useState } from 'react';
import { api } from '../../api/client';
import { mbitPerS, secondsFor, slowSeconds, typicalMB } from './speed';

const probeBytes = 8 << 20;

// ConnectionCheck measures latency (round trips to /healthz) and download
// throughput (an incompressible 8 MiB probe) from this browser.
export function ConnectionCheck() {
  const [result, setResult] = useState<{ latency: number; mbit: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    try {
      const rtts: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await fetch('/healthz', { cache: 'no-store' });
        rtts.push(performance.now() - t);
      }
      rtts.sort((a, b) => a - b);
      const latency = rtts[2];
      const t = performance.now();
      const b = await (await fetch(api.probeURL(probeBytes), { cache: 'no-store' })).arrayBuffer();
      const mbit = mbitPerS(b.byteLength, performance.now() - t);
      setResult({ latency, mbit });
      const slow = secondsFor(typicalMB.CT, mbit, latency) > slowSeconds;
      await api.recordCheck({ kind: 'connection', passed: !slow, latency_ms: latency, mbit_per_s: mbit });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel" aria-labelledby="conn-title">
      <h2 id="conn-title">Connection check</h2>
      <button onClick={() => void run()} disabled={busy}>{busy ? 'Measuring…' : 'Measure'}</button>
      {result && (
        <div role="status">
          <p>Latency {result.latency.toFixed(0)} ms · download {result.mbit.toFixed(0)} Mbit/s</p>
          <ul className="small">
            {Object.entries(typicalMB).map(([m, mb]) => {
              const s = secondsFor(mb, result.mbit, result.latency);
              return (
                <li key={m} className={s > slowSeconds ? 'error-text' : ''}>
                  {m} (~{mb} MB): {s.toFixed(1)} s{s > slowSeconds ? ' — slower than 10 s: use a wired, faster connection' : ''}
                </li>
              );
            })}
          </ul>
        </div>
      )}
    </section>
  );
}

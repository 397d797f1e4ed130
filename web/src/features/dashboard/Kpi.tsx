// Kpi: one headline figure with its label.
export function Kpi({ label, value, warn, sub }: { label: string; value: number | string; warn?: boolean; sub?: string }) {
  return (
    <div className={warn && value !== 0 ? 'kpi warn' : 'kpi'}>
      <span className="kpi-value mono">{value}</span>
      <span className="kpi-label">{label}</span>
      {sub && <span className="kpi-sub muted small">{sub}</span>}
    </div>
  );
}

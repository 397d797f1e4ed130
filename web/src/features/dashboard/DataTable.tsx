import { toCSV, type Cell } from './csv';

// DataTable: a plain table whose "Export CSV" downloads exactly the rows
// and columns it shows (the same values, not a second query).
export function DataTable({ label, file, header, rows, empty = 'No data in this range.' }: {
  label: string; file: string; header: string[]; rows: Cell[][]; empty?: string;
}) {
  const download = () => {
    const url = URL.createObjectURL(new Blob([toCSV(header, rows)], { type: 'text/csv' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = file;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <div className="datatable">
      <div className="toolbar">
        <span className="count">{rows.length} {rows.length === 1 ? 'row' : 'rows'}</span>
        <span className="spacer" />
        <button type="button" onClick={download} disabled={rows.length === 0} aria-label={`Export ${label} as CSV`}>Export CSV</button>
      </div>
      {rows.length === 0 ? <p className="muted">{empty}</p> : (
        <div className="scroll short">
          <table className="table" aria-label={label}>
            <thead><tr>{header.map((h) => <th key={h}>{h}</th>)}</tr></thead>
            <tbody>
              {rows.map((r, i) => <tr key={i}>{r.map((c, j) => <td key={j} className={typeof c === 'number' ? 'mono num' : undefined}>{c}</td>)}</tr>)}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/**
 * A key's verifications per hour over the last 7 or 30 days, valid and refused stacked, for the
 * whole key or one token; with the same numbers in words and in a table by day for screen readers.
 */
import { useId, useState } from 'react';
import { api, type Owner, type TokenView, type UsageOutcome } from '../api';
import { Field, FormError, Loading, useAsync } from '../ui';

const HOUR = 3_600_000;
const REFUSED: UsageOutcome[] = ['expired', 'rotated_out', 'not_yet_valid', 'key_inactive', 'principal_inactive'];
const OUTCOME_LABEL: Record<UsageOutcome, string> = {
  valid: 'valid',
  expired: 'expired',
  rotated_out: 'rotated out',
  not_yet_valid: 'not yet valid',
  key_inactive: 'key inactive',
  principal_inactive: 'owner inactive',
};
const day = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

export function UsagePanel({ owner, apiKeyIdentifier, keyName, tokens }: { owner: Owner; apiKeyIdentifier: string; keyName: string; tokens: TokenView[] }) {
  const [days, setDays] = useState<7 | 30>(7);
  const [tokenId, setTokenId] = useState('');
  const usage = useAsync(() => api.usage(owner, apiKeyIdentifier, days, tokenId || undefined), [owner.scope.accountId, owner.parentIdentifier, apiKeyIdentifier, days, tokenId]);
  const captionId = useId();
  const u = usage.data;
  const refused = u ? REFUSED.reduce((n, o) => n + u.totals[o], 0) : 0;
  const total = u ? u.totals.valid + refused : 0;
  const slots = u ? Math.round((u.to - u.from) / HOUR) : 0;
  const byHour = new Map((u?.hours ?? []).map((h) => [h.hour, h]));
  const max = Math.max(1, ...(u?.hours ?? []).map((h) => h.valid + REFUSED.reduce((n, o) => n + h[o], 0)));
  const perDay: Array<{ start: number; valid: number; refused: number }> = [];
  if (u) {
    for (let d = 0; d < slots / 24; d++) {
      const start = u.from + d * 24 * HOUR;
      let valid = 0;
      let bad = 0;
      for (let h = 0; h < 24; h++) {
        const x = byHour.get(start + h * HOUR);
        if (x) {
          valid += x.valid;
          bad += REFUSED.reduce((n, o) => n + x[o], 0);
        }
      }
      perDay.push({ start, valid, refused: bad });
    }
  }
  const summary = u
    ? total === 0
      ? `No verifications in the last ${days} days.`
      : `${total} verification${total === 1 ? '' : 's'} in the last ${days} days: ${u.totals.valid} valid, ${refused} refused` +
        (refused > 0 ? ` (${REFUSED.filter((o) => u.totals[o] > 0).map((o) => `${u.totals[o]} ${OUTCOME_LABEL[o]}`).join(', ')})` : '') +
        '.'
    : '';
  return (
    <div className="usage" data-testid={`usage-${apiKeyIdentifier}`}>
      <div className="usage-tools">
        <Field label="Period">
          {(a) => (
            <select {...a} value={days} onChange={(e) => setDays(Number(e.target.value) as 7 | 30)}>
              <option value={7}>Last 7 days</option>
              <option value={30}>Last 30 days</option>
            </select>
          )}
        </Field>
        <Field label="Token">
          {(a) => (
            <select {...a} value={tokenId} onChange={(e) => setTokenId(e.target.value)}>
              <option value="">All tokens of {keyName}</option>
              {tokens.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.scheduledExpireTime !== null ? `${t.name} (old, rotated)` : t.name} · …{t.id.slice(-6)}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <Loading loading={usage.loading && !u} label="Loading usage…" />
      {usage.error && <FormError error={usage.error.message} />}
      {u && (
        <figure className="usage-figure">
          <figcaption id={captionId} className="usage-summary" aria-live="polite">
            {summary}
          </figcaption>
          <svg className="usage-chart" viewBox={`0 0 ${slots} 100`} preserveAspectRatio="none" role="img" aria-labelledby={captionId}>
            {[...byHour.values()].map((h) => {
              const x = (h.hour - u.from) / HOUR;
              const bad = REFUSED.reduce((n, o) => n + h[o], 0);
              const vh = (h.valid / max) * 100;
              const bh = (bad / max) * 100;
              return (
                <g key={h.hour}>
                  {h.valid > 0 && <rect className="bar-valid" x={x} y={100 - vh} width={1} height={vh} />}
                  {bad > 0 && <rect className="bar-refused" x={x} y={100 - vh - bh} width={1} height={bh} />}
                </g>
              );
            })}
          </svg>
          <div className="usage-axis" aria-hidden="true">
            <span>{day.format(new Date(u.from))}</span>
            <span className="usage-legend">
              <span className="swatch swatch-valid" /> valid <span className="swatch swatch-refused" /> refused · per hour, at most {max}
            </span>
            <span>now</span>
          </div>
          <details className="usage-table">
            <summary>By day, as a table</summary>
            <table className="table" aria-label={`Verifications of ${keyName} by day`}>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Valid</th>
                  <th scope="col">Refused</th>
                </tr>
              </thead>
              <tbody>
                {perDay.map((d) => (
                  <tr key={d.start}>
                    <td data-label="Day">{day.format(new Date(d.start))}</td>
                    <td data-label="Valid">{d.valid}</td>
                    <td data-label="Refused">{d.refused}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </figure>
      )}
    </div>
  );
}

import type { CatalogueEntry, CatalogueRule } from './entry';

/** Every rule a catalogue entry may set, each of which must cite its source. */
export const CATALOGUE_RULES = [
  'rotation',
  'graceSeconds',
  'refreshTokenLifetime',
  'refreshTokenIdle',
  'accessTokenLifetime',
  'refreshWindow',
  'clientAuth',
  'refreshEarning',
  'pkce',
] as const satisfies readonly CatalogueRule[];

/** The rules an entry sets: each needs a `sources` entry (a quote, or why it is unverified). */
export function rulesSet(entry: CatalogueEntry): CatalogueRule[] {
  const rules: CatalogueRule[] = [];
  const refresh = entry.refreshToken;
  if (refresh) rules.push('rotation');
  if (refresh?.graceSeconds !== undefined) rules.push('graceSeconds');
  if (refresh?.lifetimeSeconds !== undefined) rules.push('refreshTokenLifetime');
  if (refresh?.idleSeconds !== undefined) rules.push('refreshTokenIdle');
  if (entry.accessTokenSeconds !== undefined || entry.defaultExpiresInSeconds !== undefined)
    rules.push('accessTokenLifetime');
  if (entry.refreshWindowSeconds !== undefined) rules.push('refreshWindow');
  if (entry.tokenAuthMethod !== undefined) rules.push('clientAuth');
  if (entry.refreshEarning !== undefined) rules.push('refreshEarning');
  if (entry.pkce !== undefined) rules.push('pkce');
  return rules;
}

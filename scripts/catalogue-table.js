// Prints the rules table of docs/catalogue.md from the built catalogue (npm run build first): each
// rule with a link to the provider page it comes from ("✓", the sentence as the link's title) or
// "unverified" (what it rests on instead, as the title). Paste the output over the table.
const { CATALOGUE, rulesSet } = require('../dist/libs/providers/src/catalogue');

const YEAR = 365 * 86400;
const duration = (seconds) => {
  if (seconds === undefined) return '';
  if (seconds % YEAR === 0) return `${seconds / YEAR} y`;
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
};
const title = (text) => text.replace(/"/g, "'").replace(/\|/g, '/');

function cite(entry, rule, value) {
  if (!rulesSet(entry).includes(rule)) return '';
  const marks = entry.sources
    .filter((source) => source.rule === rule)
    .map((source) =>
      source.quote
        ? `[✓](${source.url} "${title(source.quote)}")`
        : `[unverified](${source.url} "${title(source.unverified)}")`,
    );
  return `${value} ${marks.join(' ')}`.trim();
}

const head = [
  'provider',
  'rotation',
  'grace',
  'access token',
  'refresh token life',
  'dies unused after',
  'refresh window',
  'client auth',
  'PKCE',
  'refresh token earned by',
];
console.log(`| ${head.join(' | ')} |`);
console.log(`| ${head.map(() => '---').join(' | ')} |`);
for (const entry of CATALOGUE) {
  const refresh = entry.refreshToken;
  const earning = entry.refreshEarning
    ? [
        ...(entry.refreshEarning.scopes ?? []).map((scope) => `\`${scope}\``),
        ...Object.entries(entry.refreshEarning.authorizationParams ?? {}).map(([k, v]) => `\`${k}=${v}\``),
      ].join(' ')
    : '';
  const access =
    entry.accessTokenSeconds !== undefined
      ? duration(entry.accessTokenSeconds)
      : entry.defaultExpiresInSeconds !== undefined
        ? `${duration(entry.defaultExpiresInSeconds)} assumed`
        : '';
  const auth = { client_secret_basic: 'basic', client_secret_post: 'post' }[entry.tokenAuthMethod] ?? '';
  const row = [
    `\`${entry.id}\``,
    cite(entry, 'rotation', refresh ? refresh.rotation.replace('_', ' ') : ''),
    cite(entry, 'graceSeconds', duration(refresh?.graceSeconds)),
    cite(entry, 'accessTokenLifetime', access),
    cite(entry, 'refreshTokenLifetime', duration(refresh?.lifetimeSeconds)),
    cite(entry, 'refreshTokenIdle', duration(refresh?.idleSeconds)),
    cite(
      entry,
      'refreshWindow',
      entry.refreshWindowSeconds === undefined ? '' : `< ${entry.refreshWindowSeconds} s left`,
    ),
    cite(entry, 'clientAuth', auth),
    cite(entry, 'pkce', entry.pkce ?? ''),
    cite(entry, 'refreshEarning', earning),
  ];
  console.log(`| ${row.join(' | ')} |`);
}

// The broker's floors, written once (docs/architecture.md draws them; `npm run check` runs this).
// A room is a folder of apps/broker/src (or a file at its root). A room uses only rooms on lower
// floors; two rooms of one floor talk only where TALKS says so, and only that way round. Specs
// (`*.spec.ts`) are left out: a spec may build whatever it tests from any room.
const FLOORS = [
  ['settings', ['config']],
  ['leaves', ['common', 'metrics', 'tracing', 'logging.ts']],
  ['model', ['model']],
  ['log & events', ['audit', 'event-bus']],
  ['access', ['admin-identities', 'security', 'clients']],
  ['integrations', ['integrations']],
  ['engine', ['events', 'tokens', 'scheduler']],
  ['admin api', ['connections', 'providers', 'health', 'audit-api', 'admin-tokens-api']],
  ['boot', ['keys', 'database', 'openapi', 'app.module.ts', 'http-app.ts', 'tracing.ts', 'main.ts']],
];

/** Same-floor imports that are allowed: [from, to]. */
const TALKS = [
  ['common', 'metrics'],
  ['tracing', 'common'],
  ['security', 'admin-identities'],
  ['clients', 'admin-identities'],
  ['clients', 'security'],
  ['events', 'tokens'],
  ['scheduler', 'tokens'],
  ['scheduler', 'events'],
  ['keys', 'database'],
  ['app.module.ts', 'database'],
  ['openapi', 'app.module.ts'],
  ['http-app.ts', 'app.module.ts'],
  ['http-app.ts', 'openapi'],
  ['main.ts', 'database'],
  ['main.ts', 'http-app.ts'],
  ['main.ts', 'tracing.ts'],
];

const SRC = 'apps/broker/src/';
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const roomPath = (room) => `^${escape(SRC + room)}${room.endsWith('.ts') ? '$' : '/'}`;
const anyOf = (rooms) => rooms.map(roomPath);
const ALL_ROOMS = FLOORS.flatMap(([, rooms]) => rooms);
const SPEC = '\\.spec\\.ts$';

const floorRules = FLOORS.flatMap(([floor, rooms], level) => {
  const above = FLOORS.slice(level + 1).flatMap(([, higher]) => higher);
  return rooms.flatMap((room) => {
    const neighbours = rooms.filter(
      (other) => other !== room && !TALKS.some(([from, to]) => from === room && to === other),
    );
    const rules = [];
    if (above.length > 0)
      rules.push({
        name: `up-a-floor:${room}`,
        severity: 'error',
        comment: `${room} (floor "${floor}") uses only lower floors: move what both need down, or announce an event`,
        from: { path: roomPath(room), pathNot: SPEC },
        to: { path: anyOf(above) },
      });
    if (neighbours.length > 0)
      rules.push({
        name: `same-floor:${room}`,
        severity: 'error',
        comment: `${room} and its floor's other rooms (floor "${floor}") talk only as TALKS in .dependency-cruiser.cjs says`,
        from: { path: roomPath(room), pathNot: SPEC },
        to: { path: anyOf(neighbours) },
      });
    return rules;
  });
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...floorRules,
    {
      name: 'room-without-floor',
      severity: 'error',
      comment: `every folder of ${SRC} is a room on a floor: add a new one to FLOORS in .dependency-cruiser.cjs`,
      from: { path: `^${escape(SRC)}`, pathNot: [...anyOf(ALL_ROOMS), SPEC] },
      to: {},
    },
    {
      name: 'agent-uses-no-broker',
      severity: 'error',
      comment: 'the agent never imports the broker: share code through libs/',
      from: { path: '^apps/agent/' },
      to: { path: `^${escape(SRC)}` },
    },
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'two modules that import each other, however far round',
      from: { path: `^${escape(SRC)}`, pathNot: SPEC },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    reporterOptions: {
      archi: { collapsePattern: `^${escape(SRC)}[^/]+` },
      text: { highlightFocused: true },
    },
  },
};

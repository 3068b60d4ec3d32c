// The floor of any Node HTTP service: bare Fastify answering the token JSON from memory behind a
// bearer-key check. Started by bench/run.js as its own process: node reference-fastify.js <port> <key>
const Fastify = require('fastify');

const [port, apiKey] = process.argv.slice(2);
const token = {
  accessToken: 'x'.repeat(43),
  tokenType: 'Bearer',
  expiresAt: new Date(Date.now() + 3600e3).toISOString(),
  expiresIn: 3600,
  scope: 'data-access:all',
};
const app = Fastify({ logger: false });
app.get('/tokens/:connection', (request, reply) => {
  if (request.headers.authorization !== `Bearer ${apiKey}`) return reply.code(401).send({ statusCode: 401 });
  reply.header('cache-control', 'no-store');
  return { ...token, expiresIn: Math.floor((Date.parse(token.expiresAt) - Date.now()) / 1000) };
});
app.listen({ port: Number(port), host: '127.0.0.1' }).then(() => process.send?.('ready'));

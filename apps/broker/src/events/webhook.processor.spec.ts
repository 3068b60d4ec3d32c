import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import type { Job } from 'bullmq';
import { validateEnvironment } from '../config/environment';
import type { ConnectionEventPayload } from './webhook.constants';
import { WebhookProcessor } from './webhook.processor';

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );

describe('WebhookProcessor', () => {
  it('does not follow a redirect: the event reaches the configured receiver or nowhere', async () => {
    let elsewhere = 0;
    const other = createServer((_req, res) => {
      elsewhere += 1;
      res.end();
    });
    const otherUrl = await listen(other);
    const receiver = createServer((_req, res) => {
      res.writeHead(307, { location: `${otherUrl}/stolen` });
      res.end();
    });
    const receiverUrl = await listen(receiver);
    const processor = new WebhookProcessor(
      validateEnvironment({
        BROKER_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
        BROKER_ADMIN_API: 'false',
        BROKER_WEBHOOK_URL: `${receiverUrl}/hook`,
        BROKER_WEBHOOK_SECRET: 's'.repeat(16),
      }),
    );
    const job = {
      data: { id: 'd1', type: 'connection.failed' },
      attemptsMade: 0,
    } as unknown as Job<ConnectionEventPayload>;
    try {
      await expect(processor.process(job)).rejects.toThrow('webhook receiver answered HTTP 307');
      expect(elsewhere).toBe(0);
    } finally {
      receiver.close();
      other.close();
    }
  });
});

import { ProviderConfigError } from './provider-config';
import { ProviderMisconfiguredError } from './provider-errors';
import {
  checkProviderHosts,
  configureProviderHosts,
  guardProviderRequest,
  internalAddressKind,
  providerFetch,
} from './provider-hosts';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';

describe('provider hosts', () => {
  const resolving =
    (table: Record<string, string>) =>
    (hostname: string): Promise<{ address: string }[]> =>
      table[hostname]
        ? Promise.resolve([{ address: table[hostname] }])
        : Promise.reject(new Error('ENOTFOUND'));

  afterEach(() => configureProviderHosts({ allowPrivate: false }));

  it.each([
    ['10.1.2.3', 'private'],
    ['172.31.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private (shared address space)'],
    ['169.254.169.254', 'link-local'],
    ['fd00:ec2::254', 'private (unique local)'],
    ['fe80::1', 'link-local'],
    ['::ffff:a00:1', 'private'],
    ['0.0.0.0', 'unspecified'],
  ])('classifies %s as %s', (address, kind) => {
    expect(internalAddressKind(address)).toBe(kind);
  });

  it.each(['127.0.0.1', '::1', '8.8.8.8', '2001:4860:4860::8888', '172.32.0.1'])(
    'lets %s through',
    (address) => {
      expect(internalAddressKind(address)).toBeUndefined();
    },
  );

  it('refuses a name that resolves to a private address, at save time and at call time', async () => {
    configureProviderHosts({
      allowPrivate: false,
      lookup: resolving({ 'idp.internal.example': '10.0.0.7', 'public.example': '93.184.216.34' }),
    });
    await expect(checkProviderHosts({ tokenUrl: 'https://idp.internal.example/token' })).rejects.toThrow(
      new ProviderConfigError(
        'tokenUrl points at a private address (idp.internal.example resolves to 10.0.0.7); provider endpoints must be public (set BROKER_ALLOW_PRIVATE_PROVIDER_HOSTS=true to allow private ones)',
      ),
    );
    await expect(guardProviderRequest('https://idp.internal.example/token')).rejects.toBeInstanceOf(
      ProviderMisconfiguredError,
    );
    await expect(checkProviderHosts({ tokenUrl: 'https://public.example/token' })).resolves.toBeUndefined();
    // A name that does not resolve now is not refused at save time.
    await expect(checkProviderHosts({ tokenUrl: 'https://unknown.example/token' })).resolves.toBeUndefined();
  });

  it('refuses a literal link-local authorization endpoint, and allows everything when configured to', async () => {
    const endpoints = {
      tokenUrl: 'http://127.0.0.1:4000/token',
      authorizationUrl: 'https://169.254.169.254/a',
    };
    configureProviderHosts({ allowPrivate: false, allowLoopback: true });
    await expect(checkProviderHosts(endpoints)).rejects.toThrow(
      /authorizationUrl points at a link-local address/,
    );
    configureProviderHosts({ allowPrivate: true, allowLoopback: true });
    await expect(checkProviderHosts(endpoints)).resolves.toBeUndefined();
  });

  it.each([
    'http://127.0.0.1:15000/quitquitquit',
    'http://127.1.2.3:4191/shutdown',
    'http://localhost:4191/shutdown',
    'http://envoy.localhost:15000/quitquitquit',
    'http://[::1]:15000/quitquitquit',
    'http://[::ffff:127.0.0.1]:15000/quitquitquit',
  ])(
    'refuses the loopback endpoint %s unless loopback is allowed, even with private hosts allowed',
    async (tokenUrl) => {
      configureProviderHosts({ allowPrivate: true });
      await expect(checkProviderHosts({ tokenUrl })).rejects.toThrow(
        /tokenUrl points at a loopback address.*BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS=true/,
      );
      configureProviderHosts({ allowPrivate: false, allowLoopback: true });
      await expect(checkProviderHosts({ tokenUrl })).resolves.toBeUndefined();
    },
  );

  it.each([
    ['64:ff9b::a00:1', 'reserved (NAT64)'],
    ['64:ff9b:1::1', 'reserved (local NAT64)'],
    ['2002:a00:1::1', 'reserved (6to4)'],
    ['2001:db8::1', 'reserved (documentation)'],
    ['ff02::1', 'multicast'],
    ['192.0.2.1', 'reserved (documentation)'],
    ['198.18.0.1', 'reserved (benchmarking)'],
    ['240.0.0.1', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['::a00:1', 'reserved (IPv4-compatible)'],
  ])('classifies the special-purpose address %s as %s', (address, kind) => {
    expect(internalAddressKind(address)).toBe(kind);
  });

  it('refuses at call time a name that does not resolve, sending nothing', async () => {
    configureProviderHosts({ allowPrivate: false, lookup: resolving({}) });
    await expect(providerFetch('https://unknown.example/token', { method: 'POST' })).rejects.toThrow(
      'fetch failed',
    );
  });

  it('connects to the address it checked, not to a second answer of the resolver', async () => {
    const server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ host: request.headers.host, method: request.method }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const answers = ['127.0.0.1', '10.0.0.7'];
    let lookups = 0;
    configureProviderHosts({
      allowPrivate: false,
      allowLoopback: true,
      lookup: () => Promise.resolve([{ address: answers[lookups++] ?? '10.0.0.7' }]),
    });
    try {
      const response = await providerFetch(`http://rebinding.example:${port}/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ host: `rebinding.example:${port}`, method: 'POST' });
      expect(lookups).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

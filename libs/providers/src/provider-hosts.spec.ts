import { ProviderConfigError } from './provider-config';
import { ProviderMisconfiguredError } from './provider-errors';
import {
  checkProviderHosts,
  configureProviderHosts,
  guardProviderRequest,
  internalAddressKind,
} from './provider-hosts';

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
    await expect(checkProviderHosts(endpoints)).rejects.toThrow(
      /authorizationUrl points at a link-local address/,
    );
    configureProviderHosts({ allowPrivate: true });
    await expect(checkProviderHosts(endpoints)).resolves.toBeUndefined();
  });
});

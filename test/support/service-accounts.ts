import { exportJWK, generateKeyPair, JWK, JWTPayload, SignJWT } from 'jose';

/** The issuer of the test cluster's projected ServiceAccount tokens (`BROKER_SA_ISSUER`). */
export const CLUSTER_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/** A signing key of the test cluster, and its public half as the cluster's JWKS publishes it. */
export async function clusterKey(kid: string): Promise<{ privateKey: SigningKey; jwk: JWK }> {
  const pair = await generateKeyPair('RS256', { extractable: true });
  return {
    privateKey: pair.privateKey,
    jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
}

export interface ProjectedTokenOptions {
  key: SigningKey;
  kid: string;
  audience?: string;
  issuer?: string;
  expiresIn?: string;
  claims?: JWTPayload;
}

/**
 * A projected ServiceAccount token for `subject` (`system:serviceaccount:<namespace>:<name>`), as
 * the kubelet hands it to a pod: RS256, the broker's audience and the cluster's issuer unless told.
 */
export function projectedToken(subject: string, options: ProjectedTokenOptions): Promise<string> {
  return new SignJWT(options.claims ?? {})
    .setProtectedHeader({ alg: 'RS256', kid: options.kid })
    .setIssuer(options.issuer ?? CLUSTER_ISSUER)
    .setAudience(options.audience ?? 'token-broker')
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(options.key);
}

import { Injectable } from '@nestjs/common';
import { Keyring } from '@broker/crypto';
import { BrokerEnvironment } from '../config/environment';

/** Tables and columns whose values are sealed; the pair is part of each value's associated data. */
export type SealedColumn =
  | { table: 'integrations'; column: 'client_secret' }
  | { table: 'connections'; column: 'access_token' | 'refresh_token' }
  | { table: 'oauth_states'; column: 'code_verifier' };

/** Seals and opens stored secrets with the keyring from `BROKER_ENCRYPTION_KEYS`. */
@Injectable()
export class SecretCipher {
  readonly keyring: Keyring;

  constructor(env: BrokerEnvironment) {
    this.keyring = Keyring.parse(env.BROKER_ENCRYPTION_KEYS);
  }

  seal(where: SealedColumn, rowId: string, plaintext: string): string {
    return this.keyring.encrypt(plaintext, { ...where, rowId });
  }

  open(where: SealedColumn, rowId: string, sealed: string): string {
    return this.keyring.decrypt(sealed, { ...where, rowId });
  }
}

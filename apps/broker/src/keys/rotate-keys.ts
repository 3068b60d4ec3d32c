import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { Keyring } from '@broker/crypto';
import { dataSourceOptions } from '../database/data-source';
import { rotateKeys } from './key-rotation';

/** `npm run keys:rotate`: re-encrypts every stored secret under the first key of BROKER_ENCRYPTION_KEYS. */
(async () => {
  const keyring = Keyring.parse(process.env.BROKER_ENCRYPTION_KEYS);
  const db = new DataSource(
    dataSourceOptions(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/broker', 2),
  );
  await db.initialize();
  try {
    const report = await rotateKeys(db, keyring, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(`done: ${report.total} value(s) re-encrypted\n`);
  } finally {
    await db.destroy();
  }
})().catch((error: Error) => {
  process.stderr.write(`key rotation failed: ${error.message}\n`);
  process.exit(1);
});

import { readFile, stat } from 'node:fs/promises';

export interface Credential {
  /** The bearer value; never logged. */
  value: string;
  /** Goes up each time the value changes, so a refused credential is told apart from its successor. */
  version: number;
}

/**
 * The credential the agent presents to the broker. A projected ServiceAccount token is a file the
 * kubelet rewrites before it expires, by swapping a symlinked directory atomically; `stat` follows
 * the link, so a new inode, size or mtime means a new token and the file is read again. Checking
 * costs one `stat`, done only when the agent is about to call the broker.
 */
export class CredentialSource {
  private current: Credential;
  private fingerprint = '';

  private constructor(
    private readonly path: string | null,
    value: string,
  ) {
    this.current = { value, version: 1 };
  }

  static fromApiKey(apiKey: string): CredentialSource {
    return new CredentialSource(null, apiKey);
  }

  static async fromFile(path: string): Promise<CredentialSource> {
    const source = new CredentialSource(path, '');
    await source.reload();
    return source;
  }

  /** What the credential is, for logs (never its value). */
  get description(): string {
    return this.path ? `token file ${this.path}` : 'API key';
  }

  get version(): number {
    return this.current.version;
  }

  /** The value read last, without looking at the file. */
  get last(): Credential {
    return this.current;
  }

  /** The credential as it is now: the file is read again when it changed since the last look. */
  async get(): Promise<Credential> {
    if (!this.path) return this.current;
    const info = await stat(this.path);
    if (fingerprintOf(info) !== this.fingerprint) await this.reload();
    return this.current;
  }

  /** Reads the file again whatever its metadata says (after a 401); true when the value changed. */
  async reload(): Promise<boolean> {
    if (!this.path) return false;
    const info = await stat(this.path);
    const value = (await readFile(this.path, 'utf8')).trim();
    this.fingerprint = fingerprintOf(info);
    if (value === '' || value === this.current.value) return false;
    this.current = { value, version: this.current.version + 1 };
    return true;
  }
}

function fingerprintOf(info: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
}

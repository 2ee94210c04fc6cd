import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** Who a request comes from, once its key checked out. */
export interface ApiKeyOwner {
  keyId: string;
  organizationId: string;
  admin: boolean;
}

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  organization_id: string;
  organization: string;
  admin: boolean;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** A new key: the secret is in `key`, shown this once. */
export type NewApiKey = ApiKeyView & { key: string };

/** Characters of a key kept visible (in lists and logs) to tell keys apart. */
const PREFIX_LENGTH = 12;
/** `last_used_at` is written at most this often per key, so checking a key is a read. */
const LAST_USED_RESOLUTION_MS = 60_000;

const digest = (key: string) => createHash('sha256').update(key).digest('hex');

/**
 * API keys and the organizations they belong to. Keys are random (32 bytes), shown once, stored as
 * their SHA-256, found by a visible prefix and compared in constant time. A revoked key fails on the
 * very next request, on every gateway replica: nothing about a key is cached.
 */
export class ApiKeyStore {
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(private readonly dataSource: DataSource) {}

  /** Makes a key for the organization named, creating the organization if it is new. */
  async create(options: { organization: string; name?: string; admin?: boolean; key?: string; organizationId?: string }): Promise<NewApiKey> {
    const key = options.key ?? `lrs-${randomBytes(32).toString('base64url')}`;
    const organizationId = await this.ensureOrganization(options.organization, options.organizationId);
    const id = `apikey-${randomUUID()}`;
    await this.dataSource.query(
      `INSERT INTO api_keys (id, organization_id, name, prefix, secret_sha256, admin) VALUES ($1, $2, $3, $4, $5, $6)`,
      [id, organizationId, options.name ?? options.organization, key.slice(0, PREFIX_LENGTH), digest(key), options.admin ?? false],
    );
    return { ...(await this.get(id))!, key };
  }

  /**
   * `BOOTSTRAP_API_KEY`: the given key as an admin key of the default organization, made once;
   * starting again with the same key changes nothing (a revoked one stays revoked).
   */
  async bootstrap(key: string, organizationId: string): Promise<void> {
    const [existing] = await this.dataSource.query(`SELECT id FROM api_keys WHERE secret_sha256 = $1`, [digest(key)]);
    if (existing) return;
    try {
      await this.create({ organization: 'default', organizationId, name: 'bootstrap', admin: true, key });
    } catch (error) {
      // Another gateway replica made it at the same moment.
      if (!/duplicate key/i.test(String(error))) throw error;
    }
  }

  /** The key's owner, or null for an unknown or revoked key. */
  async verify(key: string): Promise<ApiKeyOwner | null> {
    const rows: { id: string; organization_id: string; admin: boolean; secret_sha256: string }[] = await this.dataSource.query(
      `SELECT id, organization_id, admin, secret_sha256 FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL`,
      [key.slice(0, PREFIX_LENGTH)],
    );
    const presented = Buffer.from(digest(key), 'hex');
    const match = rows.find((row) => timingSafeEqual(Buffer.from(row.secret_sha256, 'hex'), presented));
    if (!match) return null;
    this.noteUse(match.id);
    return { keyId: match.id, organizationId: match.organization_id, admin: match.admin };
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.dataSource.query(`${VIEW_SQL} ORDER BY k.created_at, k.id`)).map(toView);
  }

  async get(id: string): Promise<ApiKeyView | null> {
    const [row] = await this.dataSource.query(`${VIEW_SQL} WHERE k.id = $1`, [id]);
    return row ? toView(row) : null;
  }

  /** True if the key existed and was active. */
  async revoke(id: string): Promise<boolean> {
    const [, affected] = await this.dataSource.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
    return affected > 0;
  }

  async activeCount(): Promise<number> {
    const [row] = await this.dataSource.query(`SELECT count(*)::int AS n FROM api_keys WHERE revoked_at IS NULL`);
    return row.n;
  }

  private async ensureOrganization(name: string, id?: string): Promise<string> {
    const [row] = await this.dataSource.query(
      `INSERT INTO organizations (id, name) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
      [id ?? `org-${randomUUID()}`, name],
    );
    return row.id;
  }

  private noteUse(keyId: string): void {
    const now = Date.now();
    if (now - (this.lastUsedWritten.get(keyId) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedWritten.set(keyId, now);
    void this.dataSource.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1`, [keyId]).catch(() => undefined);
  }
}

const VIEW_SQL = `SELECT k.id, k.name, k.prefix, k.organization_id, o.name AS organization, k.admin, k.created_at, k.last_used_at, k.revoked_at
  FROM api_keys k JOIN organizations o ON o.id = k.organization_id`;

function toView(row: Record<string, unknown>): ApiKeyView {
  const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : value === null ? null : String(value));
  return {
    id: String(row.id),
    name: String(row.name),
    prefix: String(row.prefix),
    organization_id: String(row.organization_id),
    organization: String(row.organization),
    admin: Boolean(row.admin),
    created_at: iso(row.created_at)!,
    last_used_at: iso(row.last_used_at),
    revoked_at: iso(row.revoked_at),
  };
}

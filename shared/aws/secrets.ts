import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export const secrets = new SecretsManagerClient({});

let cached: { id: string; key: Promise<Buffer> } | undefined;

/** The link-signing key, read once per container and kept; a failed read is retried next time. */
export function signingKey(secretId: string): Promise<Buffer> {
  if (cached?.id !== secretId) {
    const key = secrets.send(new GetSecretValueCommand({ SecretId: secretId })).then((out) => {
      if (!out.SecretString || out.SecretString.length < 32) {
        throw new Error(`secret ${secretId} holds no signing key of at least 32 characters`);
      }
      return Buffer.from(out.SecretString, 'utf8');
    });
    cached = { id: secretId, key };
    key.catch(() => {
      if (cached?.key === key) cached = undefined;
    });
  }
  return cached.key;
}

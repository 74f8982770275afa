import fc from 'fast-check';

/** App and env names as the artifact key allows them, up to their longest. */
export const nameArbitrary = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/);

/** Versions as the artifact key allows them, up to their longest. */
export const versionArbitrary = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/);

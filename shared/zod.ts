import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * Schemas use zod's tree-shakable build, `zod/mini` (the classic build adds about 20 ms to every
 * cold start), imported where they are defined. This module, imported once by each of them, gives
 * every problem report the English messages.
 */
config(en());

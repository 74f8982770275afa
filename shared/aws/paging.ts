import { LoopBoundExceeded } from '../errors.ts';

/**
 * Every page of a paged AWS answer, in turn: `send` asks for the page after `NextToken` (undefined
 * for the first). More than `maxPages` pages is AWS misbehaving, not a longer list: it throws
 * LoopBoundExceeded naming `what` (and `detail`, when given).
 */
export async function* everyPage<T extends { NextToken?: string | undefined }>(
  what: string,
  maxPages: number,
  send: (NextToken: string | undefined) => Promise<T>,
  detail?: string,
): AsyncGenerator<T> {
  let NextToken: string | undefined;
  let pages = 0;
  do {
    if (pages++ === maxPages) {
      throw new LoopBoundExceeded(
        `${what} returned more than ${maxPages} pages${detail ? ` ${detail}` : ''}`,
      );
    }
    const out = await send(NextToken);
    yield out;
    NextToken = out.NextToken;
  } while (NextToken);
}

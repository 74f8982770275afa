import { ListImageBuildVersionsCommand } from '@aws-sdk/client-imagebuilder';
import { imagebuilder } from './imagebuilder.ts';

/** Pages of builds read at most: one deployment starts one build of its image version. */
const MAX_PAGES = 5;

/** The builds of an image version (recipe name and version), each with its state. */
export async function imageBuilds(imageVersionArn: string): Promise<{ arn: string; status: string }[]> {
  const builds: { arn: string; status: string }[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await imagebuilder.send(new ListImageBuildVersionsCommand({ imageVersionArn, nextToken }));
    for (const image of out.imageSummaryList ?? []) {
      if (image.arn) builds.push({ arn: image.arn, status: image.state?.status ?? 'UNKNOWN' });
    }
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return builds;
}

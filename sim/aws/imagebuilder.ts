import type { WorldContext } from './context.ts';
import type { Ec2Model } from './ec2.ts';
import { awsError } from './errors.ts';

interface SimBuild {
  arn: string;
  recipeArn: string;
  startedAt: number;
  tags: Record<string, string>;
  failsAt?: number;
  failReason?: string;
  cancelledAt?: number;
  amiId?: string;
}

/**
 * EC2 Image Builder: components and recipes are created once per name/version; CreateImage
 * honours its client token; a build moves PENDING → BUILDING → TESTING → DISTRIBUTING →
 * AVAILABLE over `buildMinutes`, or FAILED when a failure is injected. The output AMI appears in
 * EC2 when the build completes.
 */
export class ImagebuilderModel {
  readonly components = new Set<string>();
  readonly recipes = new Map<string, { name: string; parentImage: string }>();
  readonly infrastructureConfigurations = new Set<string>();
  private readonly builds = new Map<string, SimBuild>();
  private readonly tokens = new Map<string, string>();
  buildMinutes = 20;
  /** When set, builds fail after this many minutes with the reason. */
  failure: { afterMinutes: number; reason: string } | undefined;

  constructor(
    private readonly world: WorldContext,
    private readonly ec2: Ec2Model,
    private readonly region: string,
    private readonly account: string,
  ) {}

  get buildCount(): number {
    return this.builds.size;
  }

  /** Builds that were cancelled (CancelImageCreation). */
  get cancelledCount(): number {
    return [...this.builds.values()].filter((b) => b.cancelledAt !== undefined).length;
  }

  private arn(kind: string, path: string): string {
    return `arn:aws:imagebuilder:${this.region}:${this.account}:${kind}/${path}`;
  }

  CreateComponent(input: { name?: string; semanticVersion?: string; data?: string }) {
    if (!input.data?.includes('phases:'))
      throw awsError('InvalidParameterValueException', 'component document has no phases');
    const arn = this.arn('component', `${input.name}/${input.semanticVersion}/1`);
    if (this.components.has(arn)) {
      throw awsError('ResourceAlreadyExistsException', `The component ${arn} already exists.`);
    }
    this.components.add(arn);
    return { componentBuildVersionArn: arn };
  }

  CreateImageRecipe(input: {
    name?: string;
    semanticVersion?: string;
    parentImage?: string;
    components?: { componentArn?: string }[];
  }) {
    const arn = this.arn('image-recipe', `${input.name}/${input.semanticVersion}`);
    if (this.recipes.has(arn))
      throw awsError('ResourceAlreadyExistsException', `The image recipe ${arn} already exists.`);
    for (const component of input.components ?? []) {
      if (!this.components.has(component.componentArn ?? '')) {
        throw awsError(
          'ResourceNotFoundException',
          `The component ${component.componentArn} does not exist.`,
        );
      }
    }
    this.recipes.set(arn, { name: input.name ?? '', parentImage: input.parentImage ?? '' });
    return { imageRecipeArn: arn };
  }

  CreateImage(input: {
    imageRecipeArn?: string;
    infrastructureConfigurationArn?: string;
    clientToken?: string;
    tags?: Record<string, string>;
  }) {
    const existing = input.clientToken ? this.tokens.get(input.clientToken) : undefined;
    if (existing) return { imageBuildVersionArn: existing };
    const recipe = this.recipes.get(input.imageRecipeArn ?? '');
    if (!recipe)
      throw awsError('ResourceNotFoundException', `The image recipe ${input.imageRecipeArn} does not exist.`);
    if (!this.infrastructureConfigurations.has(input.infrastructureConfigurationArn ?? '')) {
      throw awsError(
        'ResourceNotFoundException',
        `The infrastructure configuration ${input.infrastructureConfigurationArn} does not exist.`,
      );
    }
    const arn = this.arn('image', `${recipe.name}/1.0.0/${this.builds.size + 1}`);
    const now = this.world.now();
    const build: SimBuild = {
      arn,
      recipeArn: input.imageRecipeArn ?? '',
      startedAt: now,
      tags: input.tags ?? {},
    };
    if (this.failure) {
      build.failsAt = now + this.failure.afterMinutes * 60_000;
      build.failReason = this.failure.reason;
    }
    this.builds.set(arn, build);
    if (input.clientToken) this.tokens.set(input.clientToken, arn);
    // Image Builder puts a state-change event when the build ends.
    const endsAt = build.failsAt ?? now + this.buildMinutes * 60_000;
    this.world.schedule(endsAt, () => this.announce(build));
    return { imageBuildVersionArn: arn, clientToken: input.clientToken };
  }

  private announce(build: SimBuild): void {
    const status = this.status(build);
    this.world.events.put({
      source: 'aws.imagebuilder',
      'detail-type': 'EC2 Image Builder Image State Change',
      resources: [build.arn],
      detail: {
        'previous-state': { status: 'BUILDING' },
        state: { status, ...(build.failReason ? { reason: build.failReason } : {}) },
      },
    });
  }

  private status(build: SimBuild): string {
    const now = this.world.now();
    if (build.cancelledAt !== undefined) return 'CANCELLED';
    if (build.failsAt !== undefined && now >= build.failsAt) return 'FAILED';
    const elapsed = (now - build.startedAt) / (this.buildMinutes * 60_000);
    if (elapsed >= 1) {
      // Image Builder tags every AMI it outputs with the build that made it.
      build.amiId ??= this.ec2.addImage(build.arn.split('/').slice(-3).join('-'), {
        CreatedBy: 'EC2 Image Builder',
        Ec2ImageBuilderArn: build.arn,
      }).id;
      return 'AVAILABLE';
    }
    if (elapsed < 0.05) return 'PENDING';
    if (elapsed < 0.75) return 'BUILDING';
    if (elapsed < 0.9) return 'TESTING';
    return 'DISTRIBUTING';
  }

  GetImage(input: { imageBuildVersionArn?: string }) {
    const build = this.builds.get(input.imageBuildVersionArn ?? '');
    if (!build)
      throw awsError('ResourceNotFoundException', `The image ${input.imageBuildVersionArn} does not exist.`);
    const status = this.status(build);
    return {
      image: {
        arn: build.arn,
        state: { status, ...(status === 'FAILED' ? { reason: build.failReason } : {}) },
        ...(status === 'AVAILABLE' && build.amiId
          ? { outputResources: { amis: [{ region: this.region, image: build.amiId }] } }
          : {}),
        tags: build.tags,
      },
    };
  }

  ListImageBuildVersions(input: { imageVersionArn?: string; nextToken?: string }) {
    const prefix = `${input.imageVersionArn ?? ''}/`;
    return {
      imageSummaryList: [...this.builds.values()]
        .filter((b) => b.arn.startsWith(prefix))
        .map((b) => ({ arn: b.arn, state: { status: this.status(b) } })),
    };
  }

  CancelImageCreation(input: { imageBuildVersionArn?: string }) {
    const build = this.builds.get(input.imageBuildVersionArn ?? '');
    if (!build)
      throw awsError('ResourceNotFoundException', `The image ${input.imageBuildVersionArn} does not exist.`);
    if (build.cancelledAt === undefined) {
      build.cancelledAt = this.world.now();
      this.announce(build);
    }
    return { imageBuildVersionArn: build.arn };
  }
}

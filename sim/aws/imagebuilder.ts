import { parse } from 'yaml';
import type { WorldContext } from './context.ts';
import type { Ec2Model } from './ec2.ts';
import { awsError } from './errors.ts';
import type { S3Model } from './small.ts';

interface SimBuild {
  arn: string;
  recipeArn: string;
  startedAt: number;
  tags: Record<string, string>;
  failsAt?: number;
  failReason?: string;
  cancelledAt?: number;
  amiId?: string;
  /** The S3 object version the build downloaded (bucket/key#versionId), once it has. */
  downloaded?: string;
}

/** What an AMI holds: the body of the object version its build downloaded. */
export interface BakedArtifact {
  bucket: string;
  key: string;
  versionId: string;
  body: string;
}

/** The parameters a component document declares, and whether each has a default. */
function declaredParameters(document: string): Map<string, boolean> {
  const parsed = parse(document) as { parameters?: Record<string, { default?: unknown }>[] };
  return new Map(
    (parsed.parameters ?? []).flatMap((entry) =>
      Object.entries(entry).map(([name, spec]) => [name, spec?.default !== undefined] as const),
    ),
  );
}

/**
 * EC2 Image Builder: components and recipes are created once per name/version; a recipe must
 * give each component exactly the parameters its document declares; CreateImage honours its
 * client token; a build moves PENDING → BUILDING → TESTING → DISTRIBUTING → AVAILABLE over
 * `buildMinutes`, or FAILED when a failure is injected. Early in BUILDING the install component
 * downloads the object version its ArtifactBucket/ArtifactKey/ArtifactVersionId name from S3 (a
 * missing version fails the build, as `aws s3api get-object` would); the output AMI appears in
 * EC2 when the build completes, and `baked` says what it holds.
 */
export class ImagebuilderModel {
  /** Component ARN → the parameters its document declares (name → has a default). */
  readonly components = new Map<string, Map<string, boolean>>();
  readonly recipes = new Map<
    string,
    { name: string; parentImage: string; parameters: Record<string, Record<string, string>> }
  >();
  /** AMI id → the artifact its build downloaded. */
  readonly baked = new Map<string, BakedArtifact>();
  /** Infrastructure configuration ARN → the instance profile its builds run with. */
  readonly infrastructureConfigurations = new Map<string, { instanceProfileName: string }>();
  private readonly builds = new Map<string, SimBuild>();
  private readonly tokens = new Map<string, string>();
  buildMinutes = 20;
  /** When set, builds fail after this many minutes with the reason. */
  failure: { afterMinutes: number; reason: string } | undefined;

  constructor(
    private readonly world: WorldContext,
    private readonly ec2: Ec2Model,
    private readonly s3: S3Model,
    /** Where it builds: the Region and account of the infrastructure configuration a config names. */
    public region: string,
    public account: string,
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
    let parameters: Map<string, boolean>;
    try {
      parameters = declaredParameters(input.data);
    } catch (error) {
      throw awsError(
        'InvalidParameterValueException',
        `component document is not valid YAML: ${String(error)}`,
      );
    }
    this.components.set(arn, parameters);
    return { componentBuildVersionArn: arn };
  }

  CreateImageRecipe(input: {
    name?: string;
    semanticVersion?: string;
    parentImage?: string;
    components?: { componentArn?: string; parameters?: { name?: string; value?: string[] }[] }[];
  }) {
    const arn = this.arn('image-recipe', `${input.name}/${input.semanticVersion}`);
    if (this.recipes.has(arn))
      throw awsError('ResourceAlreadyExistsException', `The image recipe ${arn} already exists.`);
    const parameters: Record<string, Record<string, string>> = {};
    for (const component of input.components ?? []) {
      const declared = this.components.get(component.componentArn ?? '');
      if (!declared) {
        throw awsError(
          'ResourceNotFoundException',
          `The component ${component.componentArn} does not exist.`,
        );
      }
      const given = Object.fromEntries(
        (component.parameters ?? []).map((p) => [p.name ?? '', (p.value ?? []).join(',')]),
      );
      const unknown = Object.keys(given).filter((name) => !declared.has(name));
      const missing = [...declared].filter(([name, hasDefault]) => !hasDefault && !(name in given));
      if (unknown.length > 0 || missing.length > 0) {
        throw awsError(
          'InvalidParameterValueException',
          `Parameters of component ${component.componentArn} do not match its document: ${[
            ...unknown.map((name) => `${name} is not a parameter`),
            ...missing.map(([name]) => `${name} has no value and no default`),
          ].join('; ')}`,
        );
      }
      parameters[component.componentArn ?? ''] = given;
    }
    this.recipes.set(arn, { name: input.name ?? '', parentImage: input.parentImage ?? '', parameters });
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
    // The install component runs early in BUILDING and downloads its artifact then.
    this.world.schedule(now + this.buildMinutes * 60_000 * 0.1, () =>
      this.download(build, recipe.parameters),
    );
    // Image Builder puts a state-change event when the build ends.
    const endsAt = build.failsAt ?? now + this.buildMinutes * 60_000;
    this.world.schedule(endsAt, () => this.announce(build));
    return { imageBuildVersionArn: arn, clientToken: input.clientToken };
  }

  /**
   * What `aws s3api get-object --version-id` does on the build instance: the named version or
   * nothing. A recipe without the parameters (another component) downloads nothing.
   */
  private download(build: SimBuild, parameters: Record<string, Record<string, string>>): void {
    if (build.cancelledAt !== undefined || (build.failsAt !== undefined && this.world.now() >= build.failsAt))
      return;
    for (const given of Object.values(parameters)) {
      const { ArtifactBucket: bucket, ArtifactKey: key, ArtifactVersionId: versionId } = given;
      if (bucket === undefined || key === undefined || versionId === undefined) continue;
      const object = this.s3.version(bucket, key, versionId);
      if (!object) {
        build.failsAt = this.world.now();
        build.failReason = `Component bluegreen-install-artifact failed at step DownloadArtifact: An error occurred (NoSuchVersion) when calling the GetObject operation: s3://${bucket}/${key} has no version ${versionId}`;
        this.announce(build);
        return;
      }
      build.downloaded = JSON.stringify({ bucket, key, versionId, body: object.body });
    }
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
      if (build.amiId === undefined) {
        // Image Builder tags every AMI it outputs with the build that made it.
        build.amiId = this.ec2.addImage(build.arn.split('/').slice(-3).join('-'), {
          CreatedBy: 'EC2 Image Builder',
          Ec2ImageBuilderArn: build.arn,
        }).id;
        if (build.downloaded) this.baked.set(build.amiId, JSON.parse(build.downloaded) as BakedArtifact);
      }
      return 'AVAILABLE';
    }
    if (elapsed < 0.05) return 'PENDING';
    if (elapsed < 0.75) return 'BUILDING';
    if (elapsed < 0.9) return 'TESTING';
    return 'DISTRIBUTING';
  }

  GetInfrastructureConfiguration(input: { infrastructureConfigurationArn?: string }) {
    const arn = input.infrastructureConfigurationArn ?? '';
    const found = this.infrastructureConfigurations.get(arn);
    if (!found)
      throw awsError('ResourceNotFoundException', `The infrastructure configuration ${arn} does not exist.`);
    return {
      infrastructureConfiguration: {
        arn,
        name: arn.split('/').at(-1),
        instanceProfileName: found.instanceProfileName,
      },
    };
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

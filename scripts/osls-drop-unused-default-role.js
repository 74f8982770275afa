/**
 * A local osls plugin: drops the framework's default Lambda role (IamRoleLambdaExecution) from the
 * packaged template when nothing in it refers to that role.
 *
 * osls always generates the default role unless every function names a `role`, and
 * serverless-iam-roles-per-function needs it as the template of each function's own role, so it
 * cannot be turned off in serverless.yml. Once every function has its own role, the default one is
 * an unused role with logs, X-Ray and destination permissions in every deployed account. It runs
 * before the template is written (after every plugin's `before:package:finalize`, and after the
 * custom resources are merged), and keeps the role if any resource or output names it.
 */
const DEFAULT_ROLE = 'IamRoleLambdaExecution';

/**
 * Whether a value (a template without the role) names the role: `Ref`, `Fn::GetAtt` (either form),
 * `DependsOn` and `Fn::Sub` all write the logical id as a whole string, or before `.` or `}`.
 */
export function refersToDefaultRole(value) {
  const text = JSON.stringify(value);
  return new RegExp(`(?:"|\\$\\{)${DEFAULT_ROLE}(?:"|\\.|\\})`).test(text);
}

export default class DropUnusedDefaultRole {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:aws:package:finalize:saveServiceState': () => this.dropUnusedDefaultRole(),
    };
  }

  dropUnusedDefaultRole() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    if (!template.Resources?.[DEFAULT_ROLE]) return;
    const { [DEFAULT_ROLE]: _role, ...others } = template.Resources;
    if (refersToDefaultRole({ ...template, Resources: others })) return;
    delete template.Resources[DEFAULT_ROLE];
  }
}

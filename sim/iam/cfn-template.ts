import { readFileSync } from 'node:fs';
import { parse, type Tags, type YAMLMap, type YAMLSeq } from 'yaml';

/**
 * Reads a CloudFormation YAML template into plain JSON, each short-form intrinsic (`!Ref x`,
 * `!If [...]`) becoming its long form (`{"Ref": "x"}`, `{"Fn::If": [...]}`), as CloudFormation
 * reads it.
 */

const INTRINSICS = [
  'And',
  'Base64',
  'Cidr',
  'Condition',
  'Equals',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'If',
  'ImportValue',
  'Join',
  'Not',
  'Or',
  'Ref',
  'Select',
  'Split',
  'Sub',
  'Transform',
];

function longName(name: string): string {
  return name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
}

const CFN_TAGS: Tags = INTRINSICS.flatMap((name) => [
  {
    tag: `!${name}`,
    resolve: (value: string) => ({ [longName(name)]: name === 'GetAtt' ? value.split('.') : value }),
  },
  {
    tag: `!${name}`,
    collection: 'seq' as const,
    resolve: (value: YAMLMap.Parsed | YAMLSeq.Parsed) => ({ [longName(name)]: value.toJSON() }),
  },
  {
    tag: `!${name}`,
    collection: 'map' as const,
    resolve: (value: YAMLMap.Parsed | YAMLSeq.Parsed) => ({ [longName(name)]: value.toJSON() }),
  },
]);

export interface CfnTemplate {
  Parameters: Record<string, { Type: string; Default?: unknown; AllowedPattern?: string }>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Condition?: string }>;
  Outputs: Record<string, { Description?: string; Value: unknown }>;
}

export function readTemplate(path: string): CfnTemplate {
  return parse(readFileSync(path, 'utf8'), { customTags: CFN_TAGS }) as CfnTemplate;
}

/**
 * The dependency graph of a CloudFormation template, as CloudFormation builds it before it creates
 * anything: a resource depends on every resource it names through `Ref`, `Fn::GetAtt` (the
 * `[Name, Attr]` and `"Name.Attr"` forms), `Fn::Sub` (`${Name}` and `${Name.Attr}`, in the string
 * and the `[string, variables]` forms) or `DependsOn`. CloudFormation rejects a template whose
 * graph has a cycle; `findCycle` names one, so a test can say which resources form it.
 */

type Template = { Parameters?: Record<string, unknown>; Resources?: Record<string, unknown> };

/** For each resource, the resources it depends on. */
export type DependencyGraph = Map<string, Set<string>>;

/** The names a `Fn::Sub` string refers to: `${Name}` and `${Name.Attr}`, not `${!Literal}`. */
function subNames(text: string): string[] {
  return [...text.matchAll(/\$\{([^}!][^}]*)\}/g)].map((m) => (m[1] ?? '').trim().split('.')[0] ?? '');
}

/** Every name that a value refers to (Ref, Fn::GetAtt, Fn::Sub), anywhere inside it. */
export function referencedNames(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedNames(item, found);
    return found;
  }
  if (value === null || typeof value !== 'object') return found;
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'Ref' && typeof inner === 'string') {
      found.add(inner);
    } else if (key === 'Fn::GetAtt') {
      const name = Array.isArray(inner)
        ? inner[0]
        : typeof inner === 'string'
          ? inner.split('.')[0]
          : undefined;
      if (typeof name === 'string') found.add(name);
      // The attribute name may itself be a Ref (`[Name, {Ref: Param}]`).
      if (Array.isArray(inner)) referencedNames(inner.slice(1), found);
    } else if (key === 'Fn::Sub') {
      const [text, variables] = Array.isArray(inner) ? inner : [inner, undefined];
      // Names the Sub defines in its own variable map are not references to resources.
      const own = new Set(variables && typeof variables === 'object' ? Object.keys(variables) : []);
      if (typeof text === 'string') for (const name of subNames(text)) if (!own.has(name)) found.add(name);
      referencedNames(variables, found);
    } else {
      referencedNames(inner, found);
    }
  }
  return found;
}

/**
 * Each resource's dependencies on other resources of the template. Pseudo parameters (`AWS::...`)
 * and the template's parameters are not resources, and a name that is neither is left out (it
 * cannot close a cycle; CloudFormation reports it as unresolved).
 */
export function dependencyGraph(template: Template): DependencyGraph {
  const resources = (template.Resources ?? {}) as Record<string, Record<string, unknown>>;
  const parameters = new Set(Object.keys(template.Parameters ?? {}));
  const graph: DependencyGraph = new Map();
  for (const [name, resource] of Object.entries(resources)) {
    const names = referencedNames(resource.Properties);
    const dependsOn = resource.DependsOn;
    for (const other of Array.isArray(dependsOn) ? dependsOn : dependsOn === undefined ? [] : [dependsOn]) {
      if (typeof other === 'string') names.add(other);
    }
    graph.set(
      name,
      new Set(
        [...names].filter((n) => !n.startsWith('AWS::') && !parameters.has(n) && Object.hasOwn(resources, n)),
      ),
    );
  }
  return graph;
}

/**
 * A cycle of the graph, as the path that closes it (`[A, B, C, A]`: A depends on B, B on C, C on
 * A), or undefined when there is none. Resources are visited in name order, so the answer is stable.
 */
export function findCycle(graph: DependencyGraph): string[] | undefined {
  const done = new Set<string>();
  const onPath = new Map<string, number>();
  const path: string[] = [];

  const visit = (node: string): string[] | undefined => {
    onPath.set(node, path.length);
    path.push(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      const at = onPath.get(next);
      if (at !== undefined) return [...path.slice(at), next];
      if (done.has(next)) continue;
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(node);
    done.add(node);
    return undefined;
  };

  for (const node of [...graph.keys()].sort()) {
    if (done.has(node)) continue;
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Letta's RequiresApprovalToolRule: every call of the tool waits for a human's approval. */
export interface RequiresApprovalRule {
  type: 'requires_approval';
  tool_name: string;
}

export function isRequiresApprovalRule(rule: unknown): rule is RequiresApprovalRule {
  return typeof rule === 'object' && rule !== null && (rule as { type?: unknown }).type === 'requires_approval' && typeof (rule as { tool_name?: unknown }).tool_name === 'string';
}

/** The tools an agent's rules put behind approval. */
export function approvalGatedTools(toolRules: readonly unknown[]): Set<string> {
  return new Set(toolRules.filter(isRequiresApprovalRule).map((rule) => rule.tool_name));
}

/** The rules, with a requires_approval rule added at the end for each of these tools that has none. */
export function withApprovalRules(toolRules: readonly unknown[], toolNames: readonly string[]): unknown[] {
  const gated = approvalGatedTools(toolRules);
  return [...toolRules, ...toolNames.filter((name) => !gated.has(name)).map((name): RequiresApprovalRule => ({ type: 'requires_approval', tool_name: name }))];
}

/** The rules without the tool's requires_approval rule. */
export function withoutApprovalRule(toolRules: readonly unknown[], toolName: string): unknown[] {
  return toolRules.filter((rule) => !(isRequiresApprovalRule(rule) && rule.tool_name === toolName));
}

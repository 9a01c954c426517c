// An IAM role ARN, as the registry and the STS fake accept it: partition,
// empty Region, 12-digit account, "role/" with an optional path.
export const roleArnPattern = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/** The role's name (the part after the last "/"). */
export function roleNameOf(roleArn: string): string {
  return roleArn.slice(roleArn.lastIndexOf("/") + 1);
}

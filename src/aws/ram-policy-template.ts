// RAM's rule for the actions of a customer managed permission: "The list must
// contain only actions that are supported by the specified resource type"
// (CreatePermission, AWS RAM API reference). The actions a resource type
// supports are its own service's, so an action is taken as supported only
// when its service prefix is the resource type's service code (ec2:Subnet:
// ec2:*); the fakes refuse the rest. No recorded AWS answer says which error
// RAM gives, so the fakes give the one its model has for a template that is
// not valid, MalformedPolicyTemplateException (400).

/** The first action that is not of the resource type's service, or undefined. */
export function actionOfAnotherService(resourceType: string, actions: readonly string[]): string | undefined {
  const service = serviceOf(resourceType);
  return actions.find((action) => service === undefined || serviceOf(action) !== service);
}

/** "ec2:Subnet" -> "ec2", "s3:GetObject" -> "s3"; a name without a prefix ("*") has no service. */
function serviceOf(name: string): string | undefined {
  const colon = name.indexOf(":");
  return colon <= 0 ? undefined : name.slice(0, colon).toLowerCase();
}

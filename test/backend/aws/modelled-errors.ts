// The errors each of the seven operations declares in its service model
// (botocore: lambda 2015-03-31, ram 2018-01-04), which the tests inject at
// the fake AWS endpoint one by one.
export const MODELLED_ERRORS = {
  AddPermission: [
    "InvalidParameterValueException",
    "PolicyLengthExceededException",
    "PreconditionFailedException",
    "PublicPolicyException",
    "ResourceConflictException",
    "ResourceNotFoundException",
    "ServiceException",
    "TooManyRequestsException",
  ],
  RemovePermission: [
    "InvalidParameterValueException",
    "PreconditionFailedException",
    "PublicPolicyException",
    "ResourceNotFoundException",
    "ServiceException",
    "TooManyRequestsException",
  ],
  GetPolicy: [
    "InvalidParameterValueException",
    "ResourceNotFoundException",
    "ServiceException",
    "TooManyRequestsException",
  ],
  CreatePermission: [
    "IdempotentParameterMismatchException",
    "InvalidClientTokenException",
    "InvalidParameterException",
    "InvalidPolicyException",
    "MalformedPolicyTemplateException",
    "OperationNotPermittedException",
    "PermissionAlreadyExistsException",
    "PermissionLimitExceededException",
    "ServerInternalException",
    "ServiceUnavailableException",
    "ThrottlingException",
  ],
  DeletePermission: [
    "IdempotentParameterMismatchException",
    "InvalidClientTokenException",
    "MalformedArnException",
    "OperationNotPermittedException",
    "ServerInternalException",
    "ServiceUnavailableException",
    "UnknownResourceException",
    "ThrottlingException",
  ],
  GetPermission: [
    "InvalidParameterException",
    "MalformedArnException",
    "OperationNotPermittedException",
    "ServerInternalException",
    "ServiceUnavailableException",
    "UnknownResourceException",
    "ThrottlingException",
  ],
  ListPermissions: [
    "InvalidNextTokenException",
    "InvalidParameterException",
    "OperationNotPermittedException",
    "ServerInternalException",
    "ServiceUnavailableException",
    "ThrottlingException",
  ],
} as const satisfies Readonly<Record<string, readonly string[]>>;

export type ModelledOperation = keyof typeof MODELLED_ERRORS;

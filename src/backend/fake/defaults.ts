// Where the fake's caller lives when a call names no account or Region: the
// demo seed's account and Region. The gateway's authorization and audit
// trail use the same values, so a policy about "its own account" means the
// account the fake acts in.
export const FAKE_DEFAULT_ACCOUNT = "123456789012";
export const FAKE_DEFAULT_REGION = "us-east-1";
export const FAKE_DEFAULT_PARTITION = "aws";

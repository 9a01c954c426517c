// The built-in seed `npm start` uses (docs/fake-seed.md, "The demo seed"). docs/fake-seed.md
// shows the same content as a JSON file.
import type { FakeSeed } from "./seed.js";

export const demoSeed: FakeSeed = {
  // The role the gateway assumes in the second account; the base identity (account 123456789012) may assume it.
  iam: {
    roles: [{ arn: "arn:aws:iam::210987654321:role/permission-gateway", trustedAccounts: ["123456789012"] }],
  },
  lambda: {
    functions: [
      {
        name: "demo",
        account: "123456789012",
        region: "us-east-1",
        versions: ["1"],
        aliases: { live: "1" },
      },
      // A second account, reached through its role (docs/accounts.md).
      { name: "demo", account: "210987654321", region: "us-east-1" },
    ],
  },
  ram: {
    permissions: [
      {
        name: "demo-permission",
        account: "123456789012",
        region: "us-east-1",
        resourceType: "ec2:Subnet",
        policyTemplate: { Effect: "Allow", Action: ["ec2:DescribeSubnets"] },
        creationTime: "2024-01-01T00:00:00Z",
      },
      {
        name: "demo-attached",
        account: "123456789012",
        region: "us-east-1",
        resourceType: "ec2:Subnet",
        policyTemplate: { Effect: "Allow", Action: ["ec2:DescribeSubnets", "ec2:DescribeTags"] },
        attachedTo: ["arn:aws:ram:us-east-1:123456789012:resource-share/7ab63972-b505-7e2a-420d-6f5d3EXAMPLE"],
        creationTime: "2024-01-01T00:00:00Z",
      },
      {
        name: "AWSRAMDefaultPermissionEC2Subnet",
        permissionType: "AWS_MANAGED",
        resourceType: "ec2:Subnet",
        policyTemplate: {
          Effect: "Allow",
          Action: ["ec2:RunInstances", "ec2:CreateNetworkInterface", "ec2:DescribeSubnets", "ec2:CreateTags"],
        },
        creationTime: "2018-11-13T00:00:00Z",
      },
      {
        name: "AWSRAMDefaultPermissionTransitGateway",
        permissionType: "AWS_MANAGED",
        resourceType: "ec2:TransitGateway",
        policyTemplate: {
          Effect: "Allow",
          Action: ["ec2:CreateTransitGatewayVpcAttachment", "ec2:DescribeTransitGateways"],
        },
        creationTime: "2018-11-13T00:00:00Z",
      },
      {
        name: "AWSRAMDefaultPermissionPrefixList",
        permissionType: "AWS_MANAGED",
        resourceType: "ec2:PrefixList",
        versions: [
          { version: 1, policyTemplate: { Effect: "Allow", Action: ["ec2:GetManagedPrefixListEntries"] } },
          {
            version: 2,
            policyTemplate: {
              Effect: "Allow",
              Action: [
                "ec2:GetManagedPrefixListEntries",
                "ec2:GetManagedPrefixListAssociations",
                "ec2:DescribeManagedPrefixLists",
              ],
            },
          },
        ],
        creationTime: "2020-07-01T00:00:00Z",
      },
      {
        name: "AWSRAMDefaultPermissionResolverRule",
        permissionType: "AWS_MANAGED",
        resourceType: "route53resolver:ResolverRule",
        policyTemplate: {
          Effect: "Allow",
          Action: [
            "route53resolver:GetResolverRule",
            "route53resolver:AssociateResolverRule",
            "route53resolver:ListResolverRules",
          ],
        },
        creationTime: "2018-11-13T00:00:00Z",
      },
      {
        name: "AWSRAMDefaultPermissionLicenseConfiguration",
        permissionType: "AWS_MANAGED",
        resourceType: "license-manager:LicenseConfiguration",
        policyTemplate: {
          Effect: "Allow",
          Action: ["license-manager:ListLicenseConfigurations", "license-manager:GetLicenseConfiguration"],
        },
        creationTime: "2019-10-23T00:00:00Z",
      },
    ],
  },
};

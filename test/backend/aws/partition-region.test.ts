// Which Region serves a call whose ARN names a partition but no Region.
import assert from "node:assert/strict";
import { test } from "node:test";
import { regionForPartition } from "../../../src/backend/aws/partition-region.js";
import { partitionOfRegion } from "../../../src/aws/partitions.js";

const partitionCases: [string, string][] = [
  ["us-east-1", "aws"],
  ["eu-west-1", "aws"],
  ["ap-southeast-2", "aws"],
  ["cn-north-1", "aws-cn"],
  ["cn-northwest-1", "aws-cn"],
  ["us-gov-west-1", "aws-us-gov"],
  ["us-gov-east-1", "aws-us-gov"],
  ["us-iso-east-1", "aws-iso"],
  ["us-isob-east-1", "aws-iso-b"],
  ["eu-isoe-west-1", "aws-iso-e"],
  ["us-isof-south-1", "aws-iso-f"],
  ["eusc-de-east-1", "aws-eusc"],
];

test("a Region AWS does not have belongs to no partition", () => {
  for (const region of ["us-east-9", "xx-west-1", "eusc-fr-west-1", ""])
    assert.equal(partitionOfRegion(region), undefined);
});
for (const [region, partition] of partitionCases) {
  test(`Region ${region} is in partition ${partition}`, () => {
    assert.equal(partitionOfRegion(region), partition);
  });
}

const routeCases: [partition: string, defaultRegion: string, expected: string][] = [
  // The default Region serves its own partition.
  ["aws", "eu-west-1", "eu-west-1"],
  ["aws-cn", "cn-northwest-1", "cn-northwest-1"],
  ["aws-us-gov", "us-gov-east-1", "us-gov-east-1"],
  // Another partition goes to a Region of that partition.
  ["aws-cn", "us-west-2", "cn-north-1"],
  ["aws-us-gov", "us-west-2", "us-gov-west-1"],
  ["aws", "cn-north-1", "us-east-1"],
  ["aws", "us-gov-west-1", "us-east-1"],
  ["aws-cn", "us-gov-west-1", "cn-north-1"],
  ["aws-iso-b", "us-east-1", "us-isob-east-1"],
  // A partition the table does not know: AWS, not a guess, answers.
  ["aws-future", "us-east-1", "us-east-1"],
];
for (const [partition, defaultRegion, expected] of routeCases) {
  test(`a ${partition} ARN without Region, default ${defaultRegion} -> ${expected}`, () => {
    assert.equal(regionForPartition(partition, defaultRegion), expected);
  });
}

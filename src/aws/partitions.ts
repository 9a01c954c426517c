// The AWS partitions and the Regions each one has, transcribed from
// botocore's botocore/data/partitions.json (the "regions" of each partition,
// without the "<partition>-global" pseudo Regions). Credentials, endpoints
// and signing are per partition, so a Region is only meaningful inside its
// own partition. A known, finite list also bounds whatever is keyed by Region
// (the AWS adapter keeps one client pair per Region).

export interface AwsPartition {
  readonly id: string;
  /** The DNS suffix of the partition's endpoints and service principals. */
  readonly dnsSuffix: string;
  /** The Region used for a call in this partition that names none. */
  readonly homeRegion: string;
  readonly regions: readonly string[];
}

export const AWS_PARTITIONS: readonly AwsPartition[] = [
  {
    id: "aws",
    dnsSuffix: "amazonaws.com",
    homeRegion: "us-east-1",
    regions: [
      "af-south-1",
      "ap-east-1",
      "ap-east-2",
      "ap-northeast-1",
      "ap-northeast-2",
      "ap-northeast-3",
      "ap-south-1",
      "ap-south-2",
      "ap-southeast-1",
      "ap-southeast-2",
      "ap-southeast-3",
      "ap-southeast-4",
      "ap-southeast-5",
      "ap-southeast-6",
      "ap-southeast-7",
      "ca-central-1",
      "ca-west-1",
      "eu-central-1",
      "eu-central-2",
      "eu-north-1",
      "eu-south-1",
      "eu-south-2",
      "eu-west-1",
      "eu-west-2",
      "eu-west-3",
      "il-central-1",
      "me-central-1",
      "me-south-1",
      "mx-central-1",
      "sa-east-1",
      "us-east-1",
      "us-east-2",
      "us-west-1",
      "us-west-2",
    ],
  },
  { id: "aws-cn", dnsSuffix: "amazonaws.com.cn", homeRegion: "cn-north-1", regions: ["cn-north-1", "cn-northwest-1"] },
  { id: "aws-eusc", dnsSuffix: "amazonaws.eu", homeRegion: "eusc-de-east-1", regions: ["eusc-de-east-1"] },
  { id: "aws-iso", dnsSuffix: "c2s.ic.gov", homeRegion: "us-iso-east-1", regions: ["us-iso-east-1", "us-iso-west-1"] },
  {
    id: "aws-iso-b",
    dnsSuffix: "sc2s.sgov.gov",
    homeRegion: "us-isob-east-1",
    regions: ["us-isob-east-1", "us-isob-west-1"],
  },
  { id: "aws-iso-e", dnsSuffix: "cloud.adc-e.uk", homeRegion: "eu-isoe-west-1", regions: ["eu-isoe-west-1"] },
  {
    id: "aws-iso-f",
    dnsSuffix: "csp.hci.ic.gov",
    homeRegion: "us-isof-south-1",
    regions: ["us-isof-east-1", "us-isof-south-1"],
  },
  {
    id: "aws-us-gov",
    dnsSuffix: "amazonaws.com",
    homeRegion: "us-gov-west-1",
    regions: ["us-gov-east-1", "us-gov-west-1"],
  },
];

const byId = new Map(AWS_PARTITIONS.map((partition) => [partition.id, partition]));
const partitionByRegion = new Map(
  AWS_PARTITIONS.flatMap((partition) => partition.regions.map((region) => [region, partition])),
);

export function awsPartition(id: string): AwsPartition | undefined {
  return byId.get(id);
}

/** Whether `region` is one of the known Regions of `partition`. */
export function isRegionOfPartition(region: string, partition: string): boolean {
  return partitionByRegion.get(region)?.id === partition;
}

/** The partition of a known Region, e.g. "cn-northwest-1" -> "aws-cn"; undefined for an unknown Region. */
export function partitionOfRegion(region: string): string | undefined {
  return partitionByRegion.get(region)?.id;
}

/** The Regions of a partition, comma-separated, for messages that tell a caller what is accepted. */
export function describeRegionsOf(partition: string): string {
  const entry = byId.get(partition);
  return entry === undefined ? "" : entry.regions.join(", ");
}

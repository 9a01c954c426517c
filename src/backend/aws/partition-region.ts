// Which Region serves a call whose ARN names a partition but no Region (AWS
// managed RAM permissions: arn:<partition>:ram::aws:permission/<name>).
//
// Credentials, endpoints and signing are per partition: a request for an
// aws-cn ARN sent to the default Region us-east-1 reaches the wrong
// partition's endpoint with the wrong partition's credentials and is refused
// there. So such a call goes to the
// default Region only when that Region is in the ARN's partition, and
// otherwise to a fixed Region of the ARN's partition. The SDK's partition
// data is not used: it is an internal module of @smithy/@aws-sdk, and the
// partitions change rarely enough for a small table kept here.

interface PartitionEntry {
  readonly partition: string;
  /** How this partition's Region codes begin. */
  readonly regionPrefix: string;
  /** The partition's first Region, used when the default Region is elsewhere. */
  readonly homeRegion: string;
}

const partitions: readonly PartitionEntry[] = [
  { partition: "aws-cn", regionPrefix: "cn-", homeRegion: "cn-north-1" },
  { partition: "aws-us-gov", regionPrefix: "us-gov-", homeRegion: "us-gov-west-1" },
  { partition: "aws-iso-b", regionPrefix: "us-isob-", homeRegion: "us-isob-east-1" },
  { partition: "aws-iso-f", regionPrefix: "us-isof-", homeRegion: "us-isof-south-1" },
  { partition: "aws-iso-e", regionPrefix: "eu-isoe-", homeRegion: "eu-isoe-west-1" },
  { partition: "aws-iso", regionPrefix: "us-iso-", homeRegion: "us-iso-east-1" },
  { partition: "aws-eusc", regionPrefix: "eusc-", homeRegion: "eusc-de-east-1" },
];

/** The commercial partition: every Region code the table does not claim. */
const commercial: PartitionEntry = { partition: "aws", regionPrefix: "", homeRegion: "us-east-1" };

/** The partition a Region code belongs to, e.g. "cn-northwest-1" -> "aws-cn". */
export function partitionOfRegion(region: string): string {
  return (partitions.find((entry) => region.startsWith(entry.regionPrefix)) ?? commercial).partition;
}

/**
 * The Region for a call in `partition` that names no Region: the default
 * Region when it is in that partition, else the partition's home Region. A
 * partition the table does not know keeps the default Region, so AWS (not a
 * guess here) answers it.
 */
export function regionForPartition(partition: string, defaultRegion: string): string {
  if (partitionOfRegion(defaultRegion) === partition) return defaultRegion;
  const entry = partition === commercial.partition ? commercial : partitions.find((e) => e.partition === partition);
  return entry?.homeRegion ?? defaultRegion;
}

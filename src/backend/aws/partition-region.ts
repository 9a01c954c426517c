// Which Region serves a call whose ARN names a partition but no Region (AWS
// managed RAM permissions: arn:<partition>:ram::aws:permission/<name>).
//
// Credentials, endpoints and signing are per partition: a request for an
// aws-cn ARN sent to the default Region us-east-1 reaches the wrong
// partition's endpoint with the wrong partition's credentials and is refused
// there. So such a call goes to the default Region only when that Region is
// in the ARN's partition, and otherwise to the partition's home Region
// (src/aws/partitions.ts).
import { awsPartition, partitionOfRegion } from "../../aws/partitions.js";

/**
 * The Region for a call in `partition` that names no Region: the default
 * Region when it is in that partition, else the partition's home Region. A
 * partition the table does not know keeps the default Region, so AWS (not a
 * guess here) answers it.
 */
export function regionForPartition(partition: string, defaultRegion: string): string {
  if (partitionOfRegion(defaultRegion) === partition) return defaultRegion;
  return awsPartition(partition)?.homeRegion ?? defaultRegion;
}

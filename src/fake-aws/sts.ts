// STS on its Query protocol, as botocore's STS model and AWS's documented
// answers define it: a form-encoded POST with Action and Version=2011-06-15;
// answers are XML in the https://sts.amazonaws.com/doc/2011-06-15/ namespace,
// errors an <ErrorResponse> with Type, Code and Message. Serves AssumeRole
// and GetCallerIdentity; the caller is the identity of the signing access
// key (SigV4 Authorization header, Credential=AKID/...).
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { FakeStsError, type FakeIdentities, type FakeIdentity } from "../backend/fake/identities.js";

export const STS_OPERATIONS = ["AssumeRole", "GetCallerIdentity"] as const;
export type StsOperation = (typeof STS_OPERATIONS)[number];

const NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";
const VERSION = "2011-06-15";

/** The access key ID of a SigV4-signed request; undefined when it is not signed. */
export function accessKeyIdOf(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers["authorization"];
  if (typeof authorization !== "string") return undefined;
  return /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
}

/** Whether a request is for STS: the Query protocol's form POST to the root path. */
export function isStsRequest(method: string | undefined, pathname: string, headers: IncomingHttpHeaders): boolean {
  const type = headers["content-type"];
  return (
    method === "POST" &&
    pathname === "/" &&
    typeof type === "string" &&
    type.startsWith("application/x-www-form-urlencoded")
  );
}

export interface StsAnswer {
  readonly operation: StsOperation | undefined;
  readonly status: number;
  readonly xml: string;
  /** The identity a successful AssumeRole issued. */
  readonly issued?: FakeIdentity | undefined;
}

/** Answers one STS request body as `caller`. */
export function answerSts(body: string, caller: FakeIdentity, identities: FakeIdentities): StsAnswer {
  const form = new URLSearchParams(body);
  const action = form.get("Action");
  const requestId = randomUUID();
  if (form.get("Version") !== VERSION)
    return errorAnswer(
      undefined,
      400,
      "InvalidAction",
      `Could not find operation ${action ?? ""} for version ${form.get("Version") ?? "NO_VERSION_SPECIFIED"}`,
      requestId,
    );
  if (action === "GetCallerIdentity") {
    const userId = caller.roleArn === undefined ? "AIDAFAKEBASEUSER0000" : `AROAFAKE:${caller.sessionName ?? ""}`;
    return {
      operation: action,
      status: 200,
      xml: result(
        action,
        `<Arn>${escape(caller.arn)}</Arn><UserId>${escape(userId)}</UserId><Account>${caller.account}</Account>`,
        requestId,
      ),
    };
  }
  if (action !== "AssumeRole")
    return errorAnswer(
      undefined,
      400,
      "InvalidAction",
      `Could not find operation ${action ?? ""} for version ${VERSION}`,
      requestId,
    );
  const roleArn = form.get("RoleArn");
  const roleSessionName = form.get("RoleSessionName");
  if (roleArn === null || roleSessionName === null)
    return errorAnswer(
      action,
      400,
      "ValidationError",
      `1 validation error detected: Value null at '${roleArn === null ? "roleArn" : "roleSessionName"}' failed to satisfy constraint: Member must not be null`,
      requestId,
    );
  const duration = form.get("DurationSeconds");
  try {
    const issued = identities.assumeRole(caller, {
      roleArn,
      roleSessionName,
      durationSeconds: duration === null ? undefined : Number(duration),
      externalId: form.get("ExternalId") ?? undefined,
      sourceIdentity: form.get("SourceIdentity") ?? undefined,
    });
    const sourceIdentity =
      issued.identity.sourceIdentity === undefined
        ? ""
        : `<SourceIdentity>${escape(issued.identity.sourceIdentity)}</SourceIdentity>`;
    return {
      operation: action,
      status: 200,
      issued: issued.identity,
      xml: result(
        action,
        `${sourceIdentity}<AssumedRoleUser><Arn>${escape(issued.identity.arn)}</Arn><AssumedRoleId>${escape(issued.assumedRoleId)}</AssumedRoleId></AssumedRoleUser>` +
          `<Credentials><AccessKeyId>${issued.accessKeyId}</AccessKeyId><SecretAccessKey>${escape(issued.secretAccessKey)}</SecretAccessKey>` +
          `<SessionToken>${escape(issued.sessionToken)}</SessionToken><Expiration>${issued.expiration.toISOString().replace(/\.\d{3}Z$/, "Z")}</Expiration></Credentials>`,
        requestId,
      ),
    };
  } catch (error) {
    if (!(error instanceof FakeStsError)) throw error;
    return errorAnswer(action, error.httpStatus, error.code, error.message, requestId);
  }
}

/** An STS error as AWS sends it; Throttling is what STS answers when its rate is exceeded. */
export function stsErrorXml(code: string, message: string, requestId: string = randomUUID()): string {
  const type =
    code === "Throttling" || code.startsWith("Internal") || code === "ServiceUnavailable" ? "Receiver" : "Sender";
  const sender = code === "Throttling" ? "Sender" : type;
  return `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${sender}</Type><Code>${escape(code)}</Code><Message>${escape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

export function writeStsAnswer(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { "Content-Type": "text/xml", "Content-Length": Buffer.byteLength(xml) });
  res.end(xml);
}

function result(action: StsOperation, inner: string, requestId: string): string {
  return `<${action}Response xmlns="${NAMESPACE}"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

function errorAnswer(
  operation: StsOperation | undefined,
  status: number,
  code: string,
  message: string,
  requestId: string,
): StsAnswer {
  return { operation, status, xml: stsErrorXml(code, message, requestId) };
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

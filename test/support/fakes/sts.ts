/**
 * A scripted fake of the STS Query API on node:http (127.0.0.1, ephemeral port): it answers each
 * request with the XML the test scripts, in the exact wire format of real STS. It validates
 * nothing: it exists to drive the real @aws-sdk/client-sts through its success, error and timeout
 * paths, which need a real socket (so its tests are integration tests). The strict STS emulator
 * is in deploy/local/cloud/.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface StsCall {
  headers: IncomingHttpHeaders;
  params: URLSearchParams;
}

export type StsReply = { status: number; body: string } | "hang";

export function stsSuccessXml(opts: { accessKeyId?: string; expiration: Date; roleArn?: string; session?: string }): string {
  const role = (opts.roleArn ?? "arn:aws:iam::123456789012:role/s3-reader").split(":role/")[1] ?? "r";
  return `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>workload:payments</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/${role}/${opts.session ?? "s"}</Arn>
      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:${opts.session ?? "s"}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>FQoGZXIvYXdzEXAMPLESESSIONTOKEN</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <Expiration>${opts.expiration.toISOString().replace(/\.\d{3}Z$/, "Z")}</Expiration>
      <AccessKeyId>${opts.accessKeyId ?? "ASIAEXAMPLEKEYID0001"}</AccessKeyId>
    </Credentials>
    <Provider>https://kc.example.com/realms/prod</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`;
}

export function stsErrorXml(code: string, message: string, type: "Sender" | "Receiver" = "Sender"): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>${type}</Type>
    <Code>${code}</Code>
    <Message>${message}</Message>
  </Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>`;
}

export interface FakeSts {
  url: string;
  calls: StsCall[];
  /** Replies used in order; the last one repeats. */
  reply(...replies: StsReply[]): void;
  close(): Promise<void>;
}

export async function startFakeSts(): Promise<FakeSts> {
  const calls: StsCall[] = [];
  let replies: StsReply[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      calls.push({ headers: req.headers, params: new URLSearchParams(Buffer.concat(chunks).toString("utf8")) });
      const reply = replies.length > 1 ? replies.shift() : replies[0];
      if (!reply || reply === "hang") return;
      res.writeHead(reply.status, { "content-type": "text/xml", "x-amzn-requestid": "c6104cbe-af31-11e0-8154-cbc7ccf896c7" });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    reply(...next) {
      replies = next;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

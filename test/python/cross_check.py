"""Cross-checks with SDKs no one here wrote: unmodified boto3 and azure-identity against our emulators
(and boto3 against moto's STS server, as an independent wire-format peer).

Reads one JSON object on stdin, prints one JSON object on stdout. Never prints a token or a secret:
only the fields the caller asserts on.

  {"aws": {"endpoint", "role_arn", "session_name", "token_file", "policy"?},
   "azure": {"authority", "tenant_id", "client_id", "assertion_file", "scope", "resource_url"}}
"""

import json
import sys
import urllib.request

import boto3
from botocore.config import Config


def aws_round_trip(cfg):
    """AssumeRoleWithWebIdentity (unsigned), then GetCallerIdentity signed with the issued credentials."""
    plain = Config(retries={"max_attempts": 1})
    sts = boto3.client("sts", endpoint_url=cfg["endpoint"], region_name="us-east-1", config=plain)
    with open(cfg["token_file"], encoding="utf-8") as f:
        token = f.read().strip()
    kwargs = {"RoleArn": cfg["role_arn"], "RoleSessionName": cfg["session_name"], "WebIdentityToken": token}
    if cfg.get("policy"):
        kwargs["Policy"] = cfg["policy"]
    assumed = sts.assume_role_with_web_identity(**kwargs)
    creds = assumed["Credentials"]
    signed = boto3.client(
        "sts",
        endpoint_url=cfg["endpoint"],
        region_name="eu-central-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=plain,
    )
    me = signed.get_caller_identity()
    return {
        "assumedRoleArn": assumed["AssumedRoleUser"]["Arn"],
        "subject": assumed.get("SubjectFromWebIdentityToken"),
        "audience": assumed.get("Audience"),
        "provider": assumed.get("Provider"),
        "accessKeyIdPrefix": creds["AccessKeyId"][:4],
        "expirationIsDatetime": hasattr(creds["Expiration"], "tzinfo"),
        "callerArn": me["Arn"],
        "callerAccount": me["Account"],
    }


def aws_error(cfg):
    """The same call with a token the service must refuse: the parsed error code and HTTP status."""
    from botocore.exceptions import ClientError

    sts = boto3.client("sts", endpoint_url=cfg["endpoint"], region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
    try:
        sts.assume_role_with_web_identity(RoleArn=cfg["role_arn"], RoleSessionName=cfg["session_name"], WebIdentityToken=cfg["bad_token"])
    except ClientError as e:
        return {"code": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"], "type": e.response["Error"].get("Type")}
    return {"code": None}


def azure_round_trip(cfg):
    """ClientAssertionCredential against the emulator, then the protected test API with the token."""
    from azure.identity import ClientAssertionCredential

    def assertion():
        with open(cfg["assertion_file"], encoding="utf-8") as f:
            return f.read().strip()

    credential = ClientAssertionCredential(
        cfg["tenant_id"], cfg["client_id"], assertion, authority=cfg["authority"], disable_instance_discovery=True
    )
    token = credential.get_token(cfg["scope"])
    req = urllib.request.Request(cfg["resource_url"], headers={"Authorization": "Bearer " + token.token})
    with urllib.request.urlopen(req, timeout=10) as res:
        whoami = json.loads(res.read().decode("utf-8"))
    return {"expiresOnIsInt": isinstance(token.expires_on, int), "whoami": whoami}


def main():
    cfg = json.load(sys.stdin)
    out = {}
    if "aws" in cfg:
        out["aws"] = aws_round_trip(cfg["aws"])
    if "aws_error" in cfg:
        out["aws_error"] = aws_error(cfg["aws_error"])
    if "azure" in cfg:
        out["azure"] = azure_round_trip(cfg["azure"])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

"""Calls the models of both clouds the way a Python workload does, with the unmodified SDKs.

boto3's `bedrock-runtime` `converse` through the default credential chain (the container-credentials
variables lead it to the sidecar, AWS_ENDPOINT_URL_BEDROCK_RUNTIME to the local Bedrock), and the
`openai` package's AzureOpenAI with azure-identity's bearer-token provider over DefaultAzureCredential
(App Service variables lead it to the sidecar; AZURE_OPENAI_ENDPOINT and OPENAI_API_VERSION are read
by the client). Env: BEDROCK_MODEL_ID, AZURE_OPENAI_DEPLOYMENT. Prints one JSON line.
"""

import json
import os

import boto3
from azure.identity import DefaultAzureCredential, get_bearer_token_provider
from openai import AzureOpenAI

PROMPT = "Summarise yesterday's payments in one sentence."


def bedrock(model_id):
    client = boto3.client("bedrock-runtime")
    out = client.converse(modelId=model_id, messages=[{"role": "user", "content": [{"text": PROMPT}]}])
    return {"ok": True, "modelId": model_id, "text": out["output"]["message"]["content"][0]["text"]}


def azure_openai(deployment):
    provider = get_bearer_token_provider(DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default")
    client = AzureOpenAI(azure_ad_token_provider=provider, max_retries=0)
    out = client.chat.completions.create(model=deployment, messages=[{"role": "user", "content": PROMPT}])
    return {"ok": True, "deployment": deployment, "text": out.choices[0].message.content}


def attempt(fn, arg):
    try:
        return fn(arg)
    except Exception as error:  # report any SDK error as data: the caller asserts on it
        return {"ok": False, "error": type(error).__name__, "message": str(error).splitlines()[0] if str(error) else ""}


print(json.dumps({"bedrock": attempt(bedrock, os.environ["BEDROCK_MODEL_ID"]), "azureOpenAi": attempt(azure_openai, os.environ["AZURE_OPENAI_DEPLOYMENT"])}))

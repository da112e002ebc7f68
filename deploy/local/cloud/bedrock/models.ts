/**
 * What a `modelId` path parameter names, as Bedrock Runtime reads it: a base model id
 * (`amazon.nova-micro-v1:0`), its foundation-model ARN, or an application inference profile ARN —
 * and which resources the call is authorized on. Invoking through an application inference profile
 * needs `bedrock:InvokeModel` on the profile and on the base model it routes to ("Prerequisites for
 * application inference profiles", Bedrock User Guide); the model is then evaluated with the
 * condition key `bedrock:InferenceProfileArn`. Pure.
 */
import type { CloudAccounts } from "../accounts/accounts.ts";
import { BedrockError } from "./errors.ts";

export interface AuthorizedResource {
  arn: string;
  /** Owner account of the resource; foundation models belong to no account. */
  account: string | undefined;
  type: "AWS::Bedrock::FoundationModel" | "AWS::Bedrock::ApplicationInferenceProfile";
  /** Condition keys the resource adds to the request context (`aws:ResourceTag/…`, `bedrock:InferenceProfileArn`). */
  context: Record<string, string>;
}

export interface ResolvedModel {
  /** The base model that answers. */
  modelId: string;
  /** Every resource `bedrock:InvokeModel` is evaluated on, in order. */
  resources: AuthorizedResource[];
}

const MODEL_ID = /^[a-z0-9-]{1,63}\.[A-Za-z0-9.:-]{1,200}$/;
const FOUNDATION_ARN = /^arn:aws:bedrock:([a-z0-9-]+)::foundation-model\/(.+)$/;
const PROFILE_ARN = /^arn:aws:bedrock:([a-z0-9-]+):(\d{12}):application-inference-profile\/([a-z0-9]{1,64})$/;

const invalid = () => new BedrockError("ValidationException", "The provided model identifier is invalid.");

export function foundationModelArn(region: string, modelId: string): string {
  return `arn:aws:bedrock:${region}::foundation-model/${modelId}`;
}

export function inferenceProfileArn(region: string, account: string, id: string): string {
  return `arn:aws:bedrock:${region}:${account}:application-inference-profile/${id}`;
}

export function resolveModel(modelIdParam: string, accounts: CloudAccounts): ResolvedModel {
  const { region, foundationModels, inferenceProfiles } = accounts.aws;
  const foundation = (modelId: string, context: Record<string, string> = {}): AuthorizedResource => {
    if (!foundationModels.includes(modelId)) throw invalid();
    return { arn: foundationModelArn(region, modelId), account: undefined, type: "AWS::Bedrock::FoundationModel", context };
  };
  const profileMatch = PROFILE_ARN.exec(modelIdParam);
  if (profileMatch) {
    const [, profileRegion, account, id] = profileMatch as unknown as [string, string, string, string];
    const profile = inferenceProfiles.find((p) => p.id === id && p.account === account);
    if (profileRegion !== region || !profile) throw invalid();
    const arn = inferenceProfileArn(region, account, id);
    const tags = Object.fromEntries(Object.entries(profile.tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
    return {
      modelId: profile.model,
      resources: [
        { arn, account, type: "AWS::Bedrock::ApplicationInferenceProfile", context: { ...tags, "aws:ResourceAccount": account } },
        foundation(profile.model, { "bedrock:InferenceProfileArn": arn }),
      ],
    };
  }
  const arnMatch = FOUNDATION_ARN.exec(modelIdParam);
  if (arnMatch) {
    if (arnMatch[1] !== region) throw invalid();
    return { modelId: arnMatch[2]!, resources: [foundation(arnMatch[2]!)] };
  }
  if (!MODEL_ID.test(modelIdParam)) throw invalid();
  return { modelId: modelIdParam, resources: [foundation(modelIdParam)] };
}

import type { BrokerError } from "../../broker/errors.ts";

/** The BrokerError `p` rejects with; fails the test if `p` resolves. */
export async function failure(p: Promise<unknown>): Promise<BrokerError> {
  try {
    await p;
  } catch (e) {
    return e as BrokerError;
  }
  throw new Error("expected a failure");
}

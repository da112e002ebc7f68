import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { jsonLinesAuditSink, type AuditEvent } from "../../../../broker/agents/audit.ts";

const event = (requestId: string): AuditEvent => ({
  type: "token_exchange",
  time: "2026-11-29T12:00:00.000Z",
  requestId,
  outcome: "denied",
  status: 400,
  subject: {},
  actor: {},
});

describe("jsonLinesAuditSink", () => {
  it("writes nothing on the request's path, then the turn's lines in one write, one JSON line per event", async () => {
    const writes: string[] = [];
    const sink = jsonLinesAuditSink((text) => writes.push(text));
    sink.emit(event("a"));
    sink.emit(event("b"));
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toHaveLength(1);
    expect(
      writes[0]!
        .split("\n")
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as AuditEvent).requestId),
    ).toEqual(["a", "b"]);
    sink.emit(event("c"));
    await nextTurn();
    expect(writes).toHaveLength(2);
  });

  it("flush() writes what is queued at once (shutdown), and nothing twice", async () => {
    const writes: string[] = [];
    const sink = jsonLinesAuditSink((text) => writes.push(text));
    sink.emit(event("a"));
    sink.flush();
    expect(writes).toHaveLength(1);
    await nextTurn();
    expect(writes).toHaveLength(1);
  });

  it("serializes the turn's events after the turn, and loses no other event to one that cannot be serialized", async () => {
    const writes: string[] = [];
    const sink = jsonLinesAuditSink((text) => writes.push(text));
    const first = event("a");
    sink.emit(first);
    sink.emit({ ...event("broken"), detail: 1n as unknown as string });
    sink.emit(event("c"));
    expect(writes).toEqual([]);
    await nextTurn();
    expect(
      writes[0]!
        .split("\n")
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as AuditEvent).requestId),
    ).toEqual(["a", "c"]);
  });

  it("never throws into the exchange when the stream fails (EPIPE)", async () => {
    const sink = jsonLinesAuditSink(() => {
      throw Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
    });
    expect(() => sink.emit(event("a"))).not.toThrow();
    await nextTurn();
    expect(() => sink.flush()).not.toThrow();
  });
});

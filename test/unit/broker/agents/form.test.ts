import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formPairs } from "../../../../broker/agents/request.ts";

const urlSearchParams = (body: string) => [...new URLSearchParams(body)];

describe("form pairs", () => {
  it.each([
    [
      "a token exchange",
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=eyJ.eyJ.sig&resource=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr",
    ],
    ["empty", ""],
    ["empty pieces and names", "&&a=1&&=2&b&=&c="],
    ["+ and %2B", "scope=a+b%2Bc&x=%20"],
    ["a stray %", "a=%&b=%4&c=%zz&d=1"],
    ["bytes that are not UTF-8", "a=%FF%FE&b=%C3"],
    ["a BOM", "%EF%BB%BFa=%EF%BB%BF"],
    ["raw non-ASCII", "name=Jürgen&emoji=😀&mixed=%C3%BC+ü"],
    ["a lone surrogate", "a=\ud800&b=1"],
    ["= in a value", "a=b=c&d==e"],
  ])("reads %s as URLSearchParams does", (_name, body) => {
    expect(formPairs(body)).toEqual(urlSearchParams(body));
  });

  it("reads any body as URLSearchParams does", () => {
    const piece = fc.oneof(
      fc.constantFrom("&", "=", "+", "%", "%2", "%25", "%2B", "%26", "%3D", "%C3%BC", "%FF", "%ED%A0%80", "%EF%BB%BF", "\ud800", "😀", "ü"),
      fc.string({ unit: "binary", maxLength: 4 }),
      fc.stringMatching(/^[A-Za-z0-9._~-]{0,6}$/),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (pieces) => {
        const body = pieces.join("");
        expect(formPairs(body)).toEqual(urlSearchParams(body));
      }),
      { numRuns: 5000 },
    );
  });
});

import { credentials } from "@grpc/grpc-js";
import { TestPki } from "@prescient/kit/testing";
import { describe, expect, it } from "vitest";
import { clientCredentials } from "./client-command.js";

describe("client commands' TLS flags", () => {
  it("are plaintext without files, TLS with a CA, and mTLS with a pair", () => {
    expect(clientCredentials({})._isSecure()).toBe(false);
    const pki = new TestPki();
    const ca = pki.authority("ca");
    const pair = pki.issue(ca, "me");
    expect(clientCredentials({ tlsCa: ca.cert })._isSecure()).toBe(true);
    expect(clientCredentials({ tlsCa: ca.cert, tlsCert: pair.cert, tlsKey: pair.key })._isSecure()).toBe(
      true,
    );
    expect(credentials.createInsecure()._isSecure()).toBe(false);
  });

  it("refuses a certificate without its key, and names an unreadable file's flag", () => {
    expect(() => clientCredentials({ tlsCert: "/x.pem" })).toThrow("--tls-cert and --tls-key go together");
    expect(() => clientCredentials({ tlsCa: "/nope.pem" })).toThrow(
      "--tls-ca /nope.pem: cannot read the file (ENOENT)",
    );
  });
});

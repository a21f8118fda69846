import assert from "node:assert/strict";
import { AclConfigError, compileAddress, parsePlainAcl } from "./plain_acl.ts";
import { aclSignature as sign, signedContent } from "../../protocol/acl_signature.ts";

Deno.test("sign() matches RocketMQ 4.9.7's AclUtils.calSignature over sorted extFields values and the body", () => {
  // Computed with the reference jar: AclUtils.calSignature(AclUtils.combineRequestContent(request, treeMap), secret).
  const ext = { b: "Orders", a: "P", AccessKey: "producerAK", Zeta: "z", _x: "u", "é": "e" };
  assert.equal(
    sign(signedContent(ext, new TextEncoder().encode("secret payload")), "producerSecret"),
    "7OwcHnbp2/tHghJH5/0VjhLKeqg=",
  );
  // Signature and _UNIQUE_KEY_QUERY are not part of the content.
  const withExtras = { ...ext, Signature: "x", _UNIQUE_KEY_QUERY: "true" };
  assert.deepEqual(signedContent(withExtras, undefined), signedContent(ext, undefined));
});

Deno.test("compileAddress() follows RocketMQ's white-list forms", () => {
  const cases: [string, string, boolean][] = [
    ["*", "1.2.3.4", true],
    ["", "1.2.3.4", false],
    ["192.168.0.*", "192.168.0.77", true],
    ["192.168.0.*", "192.168.1.77", false],
    ["192.168.*.*", "192.168.9.9", true],
    ["10.0.0.1-10", "10.0.0.10", true],
    ["10.0.0.1-10", "10.0.0.11", false],
    ["10.0.0.1,10.0.0.2", "10.0.0.2", true],
    ["10.0.0.{1,2,3}", "10.0.0.3", true],
    ["10.0.0.{1,2,3}", "10.0.0.4", false],
    ["127.0.0.1", "127.0.0.1", true],
  ];
  for (const [pattern, ip, expected] of cases) {
    assert.equal(compileAddress(pattern, "t")(ip), expected, `${pattern} vs ${ip}`);
  }
  assert.throws(() => compileAddress("1.2.3", "t"), AclConfigError);
  assert.throws(() => compileAddress("1.2.3.300", "t"), AclConfigError);
});

Deno.test("parsePlainAcl() rejects anything malformed rather than guessing", () => {
  const bad = [
    "accounts: [ {accessKey: x",
    "- just a list",
    "accounts:\n  - accessKey: abcdefg\n    secretKey: 123\n",
    "accounts:\n  - accessKey: abcdefg\n    secretKey: 1234567\n    topicPerms: [ 'T=WRITE' ]\n",
    "accounts:\n  - accessKey: abcdefg\n    secretKey: 1234567\n    admin: yes please\n",
    "accounts:\n  - accessKey: abcdefg\n    secretKey: 1234567\n  - accessKey: abcdefg\n    secretKey: 7654321\n",
    "globalWhiteRemoteAddresses: [ 'not an ip' ]\n",
  ];
  for (const text of bad) assert.throws(() => parsePlainAcl(text), AclConfigError, text);
  const rules = parsePlainAcl(
    "accounts:\n  - accessKey: abcdefg\n    secretKey: 1234567\n    topicPerms: [ 'T=PUB|SUB' ]\n",
  );
  assert.equal(rules.accounts.get("abcdefg")?.topicPerms.get("T"), 4 | 8);
  assert.equal(rules.accounts.get("abcdefg")?.defaultTopicPerm, 1, "no default means DENY");
});

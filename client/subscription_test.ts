import assert from "node:assert/strict";
import { parseSubscription, subscriptionJson } from "./subscription.ts";

Deno.test("parseSubscription() reads '*' and empty as everything", () => {
  for (const expression of ["*", "", "  * "]) {
    const sub = parseSubscription("t", expression, 1);
    assert.equal(sub.expression, "*");
    assert.equal(sub.tags.size, 0);
  }
});

Deno.test("parseSubscription() splits tags on || and hashes them like Java", () => {
  const sub = parseSubscription("t", " TagA ||TagB|| ", 42);
  assert.deepEqual([...sub.tags], ["TagA", "TagB"]);
  assert.ok(sub.codes.has(2598919));
  assert.equal(sub.subVersion, 42);
  assert.deepEqual(subscriptionJson(sub), {
    classFilterMode: false,
    codeSet: [2598919, 2598920],
    expressionType: "TAG",
    subString: "TagA ||TagB||",
    subVersion: 42,
    tagsSet: ["TagA", "TagB"],
    topic: "t",
  });
});

import assert from "node:assert/strict";
import { HeaderError, readHeader } from "./header.ts";

const SCHEMA = { topic: "string", queueId: "int", offset: "long", batch: "boolean?", extra: "int?" } as const;

Deno.test("readHeader() parses ints, longs and booleans as Java's header decoding does", () => {
  const h = readHeader("H", SCHEMA, { topic: "t", queueId: "-7", offset: "+9007199254740991", batch: "TRUE" });
  assert.deepStrictEqual(h, { topic: "t", queueId: -7, offset: 9007199254740991, batch: true });
  assert.equal(readHeader("H", SCHEMA, { topic: "t", queueId: "0", offset: "12", batch: "yes" }).batch, false);
  assert.equal(readHeader("H", SCHEMA, { topic: "t", queueId: "2147483647", offset: "-1" }).queueId, 2147483647);
  // 16 to 20 digits: exact as Number() reads them.
  assert.equal(
    readHeader("H", SCHEMA, { topic: "t", queueId: "1", offset: "12345678901234567890" }).offset,
    Number("12345678901234567890"),
  );
});

Deno.test("readHeader() throws HeaderError naming the field for missing or malformed values", () => {
  const bad: Record<string, string>[] = [
    { queueId: "1", offset: "1" },
    { topic: "t", queueId: "2147483648", offset: "1" },
    { topic: "t", queueId: "1.5", offset: "1" },
    { topic: "t", queueId: "", offset: "1" },
    { topic: "t", queueId: "-", offset: "1" },
    { topic: "t", queueId: "1", offset: "0x10" },
    { topic: "t", queueId: "1", offset: "123456789012345678901" },
    { topic: "t", queueId: "1", offset: "1", extra: " 1" },
  ];
  for (const fields of bad) {
    assert.throws(() => readHeader("H", SCHEMA, fields), HeaderError, JSON.stringify(fields));
  }
});

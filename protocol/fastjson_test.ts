import assert from "node:assert/strict";
import { ProtocolError } from "./errors.ts";
import { parseFastJson, stringifyFastJson } from "./fastjson.ts";
import { decodeFrame } from "./frame.ts";

const fixture = (name: string) => Deno.readFileSync(new URL(`../tests/fixtures/reference/${name}`, import.meta.url));

Deno.test("stringifyFastJson() writes unquoted integer keys and object keys", () => {
  const route = {
    brokerDatas: [{
      brokerAddrs: new Map([[0, "127.0.0.1:30911"]]),
      brokerName: "broker-a",
      cluster: "DefaultCluster",
    }],
    filterServerTable: {},
    queueDatas: [{ brokerName: "broker-a", perm: 7, readQueueNums: 8, topicSysFlag: 0, writeQueueNums: 8 }],
  };
  // Byte for byte what the 4.9.7 nameserver answered a version-121 route request.
  const expected = new TextDecoder().decode(decodeFrame(fixture("nameserver_105_v121.response.bin")).body);
  assert.equal(stringifyFastJson(route), expected);
  const mq = { brokerName: "b", queueId: 0, topic: "t" };
  assert.equal(
    stringifyFastJson({ offsetTable: new Map([[mq, { maxOffset: 5n, minOffset: 0 }]]) }),
    '{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:{"maxOffset":5,"minOffset":0}}}',
  );
  assert.equal(stringifyFastJson({ a: null, b: undefined, c: new Set(["x"]), d: 'q"' }), '{"c":["x"],"d":"q\\""}');
});

Deno.test("parseFastJson() reads the captured route and cluster bodies", () => {
  for (const name of ["nameserver_105_v121", "nameserver_105_v409", "nameserver_106"]) {
    const text = new TextDecoder().decode(decodeFrame(fixture(`${name}.response.bin`)).body);
    const parsed = parseFastJson(text) as Record<string, unknown>;
    assert.equal(typeof parsed, "object", name);
  }
  const route = parseFastJson('{"brokerDatas":[{"brokerAddrs":{0:"a:1",1:"b:2"}}]}') as {
    brokerDatas: { brokerAddrs: Record<string, string> }[];
  };
  assert.deepEqual(route.brokerDatas[0].brokerAddrs, { "0": "a:1", "1": "b:2" });
});

Deno.test("parseFastJson() returns a Map for object keys and accepts fastjson leniencies", () => {
  const parsed = parseFastJson('{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:{"maxOffset":5}}}') as {
    offsetTable: Map<unknown, unknown>;
  };
  assert.ok(parsed.offsetTable instanceof Map);
  assert.deepEqual([...parsed.offsetTable], [[{ brokerName: "b", queueId: 0, topic: "t" }, { maxOffset: 5 }]]);
  assert.deepEqual(parseFastJson("{a:'x\\u0041',b:[1,-2.5e3,true,null]}"), { a: "xA", b: [1, -2500, true, null] });
});

Deno.test("parseFastJson() rejects malformed input and deep nesting with ProtocolError", () => {
  for (const bad of ["{", "[1,", '{"a" 1}', '"abc', "nope", "{}x", "[".repeat(100) + "]".repeat(100), "{1}"]) {
    assert.throws(() => parseFastJson(bad), ProtocolError, bad);
  }
});

/**
 * Every `denomq admin` subcommand as a real process (`deno run -P=admin main.ts admin …`) against
 * real `nameserver` and `broker` processes: the table output, `--json`, and on failure exit code
 * 1 with one line naming the reason (exit 2 for bad usage).
 */

import assert from "node:assert/strict";
import { RemotingClient } from "../client/remoting_client.ts";
import { startCluster, tempDir, type TestCluster } from "./_process.ts";
import { seedBroker, type Seeded } from "./_seed.ts";

const ROOT = new URL("../", import.meta.url);
const decoder = new TextDecoder();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** Our lines on stderr (Deno may add a warning about config-file permissions). */
  errors: string[];
}

async function admin(namesrv: string, args: string[]): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=admin", "main.ts", "admin", ...args, "-n", namesrv],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = decoder.decode(output.stderr);
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr,
    errors: stderr.split("\n").filter((l) => l.startsWith("denomq")),
  };
}

function ok(run: Run): string {
  assert.equal(run.code, 0, run.stderr);
  return run.stdout;
}

// deno-lint-ignore no-explicit-any
function json(run: Run): any {
  return JSON.parse(ok(run));
}

/** Exit 1 with exactly one line of ours, matching `reason`. */
function failed(run: Run, reason: RegExp): void {
  assert.equal(run.code, 1, `expected exit 1: ${run.stdout}${run.stderr}`);
  assert.equal(run.errors.length, 1, run.stderr);
  assert.match(run.errors[0], reason);
}

async function withCluster(fn: (cluster: TestCluster, seeded: Seeded, client: RemotingClient) => Promise<void>) {
  const cluster = await startCluster();
  const client = new RemotingClient();
  try {
    const seeded = await seedBroker(client, cluster.brokerAddr, { count: 8, deadLetters: 3 });
    await fn(cluster, seeded, client);
  } finally {
    await client.close();
    await cluster.close();
  }
}

Deno.test("admin: clusterList, brokerStatus, updateTopic, topicList, topicRoute, topicStatus, sendMessage, deleteTopic", async () => {
  await withCluster(async (cluster) => {
    const ns = cluster.namesrv;
    const addr = cluster.brokerAddr;
    const [list, listJson, status, statusCluster, created] = await Promise.all([
      admin(ns, ["clusterList"]),
      admin(ns, ["clusterList", "--json"]),
      admin(ns, ["brokerStatus", "-b", addr]),
      admin(ns, ["brokerStatus", "-c", "DefaultCluster", "--json"]),
      admin(ns, ["updateTopic", "-c", "DefaultCluster", "-t", "CliTopic", "-r", "2", "-w", "2"]),
    ]);
    assert.match(ok(list), /#Cluster Name\s+#Broker Name\s+#BID\s+#Addr\nDefaultCluster\s+broker-a\s+0\s+/);
    assert.deepEqual(json(listJson), [{ cluster: "DefaultCluster", brokerName: "broker-a", brokerId: 0, addr }]);
    assert.match(ok(status), /^brokerVersionDesc\s+: V4_9_7$/m);
    assert.equal(json(statusCluster)[addr].brokerVersion, "407");
    assert.equal(ok(created).trim(), `create topic to ${addr} success.`);

    const [topics, route, sent] = await Promise.all([
      admin(ns, ["topicList", "--json"]),
      admin(ns, ["topicRoute", "-t", "CliTopic"]),
      admin(ns, ["sendMessage", "-t", "CliTopic", "-p", "hello cli", "-k", "cli-key", "-c", "TagC", "--json"]),
    ]);
    assert.ok(json(topics).includes("CliTopic"));
    assert.match(ok(route), /broker-a\s+2\s+2\s+6\s+0=/);
    const result = json(sent);
    assert.equal(result.status, "SEND_OK");
    assert.equal(result.brokerName, "broker-a");
    assert.match(result.msgId, /^[0-9A-F]{32}$/);

    const [table, tableJson, sentToQueue] = await Promise.all([
      admin(ns, ["topicStatus", "-t", "SeedTopic"]),
      admin(ns, ["topicStatus", "-t", "SeedTopic", "--json"]),
      admin(ns, ["sendMessage", "-t", "CliTopic", "-p", "to queue 1", "-b", "broker-a", "-i", "1"]),
    ]);
    assert.match(
      ok(table),
      /#Broker Name\s+#QID\s+#Min Offset\s+#Max Offset\s+#Last Updated\nbroker-a\s+0\s+0\s+2\s+\d{4}-/,
    );
    assert.equal(json(tableJson).reduce((n: number, q: { maxOffset: number }) => n + q.maxOffset, 0), 8);
    assert.match(ok(sentToQueue), /broker-a\s+1\s+SEND_OK/);

    const deleted = await admin(ns, ["deleteTopic", "-t", "CliTopic", "-c", "DefaultCluster"]);
    assert.match(ok(deleted), /delete topic \[CliTopic\] from cluster \[DefaultCluster\] success\./);
    assert.match(deleted.stdout, /delete topic \[CliTopic\] from NameServer success\./);

    const errors = await Promise.all([
      admin(ns, ["brokerStatus"]),
      admin(ns, ["brokerStatus", "-b", "127.0.0.1:1"]),
      admin(ns, ["topicStatus", "-t", "NoSuchTopic"]),
      admin(ns, ["topicRoute", "-t", "CliTopic"]),
      admin(ns, ["updateTopic", "-c", "NoCluster", "-t", "X"]),
      admin(ns, ["updateTopic", "-b", addr, "-t", "bad topic"]),
      admin(ns, ["updateTopic", "-b", addr, "-t", "T", "-r", "many"]),
      admin(ns, ["sendMessage", "-t", "NoSuchTopic", "-p", "x"]),
      admin("127.0.0.1:1", ["topicList"]),
      admin(ns, ["topicList", "--bogus"]),
    ]);
    failed(errors[0], /^denomq admin brokerStatus: Missing -b <brokerAddr> or -c <clusterName>$/);
    failed(errors[1], /127\.0\.0\.1:1/);
    failed(errors[2], /Topic "NoSuchTopic" not found/);
    failed(errors[3], /Topic "CliTopic" not found/);
    failed(errors[4], /Cluster "NoCluster" not found/);
    failed(errors[5], /Invalid topic name "bad topic"/);
    failed(errors[6], /Invalid -r "many"/);
    failed(errors[7], /Topic "NoSuchTopic" not found: create it first/);
    failed(errors[8], /127\.0\.0\.1:1/);
    assert.equal(errors[9].code, 2, "unknown flags are bad usage");
  });
});

Deno.test("admin: updateSubGroup, consumerProgress, consumerConnection, producerConnection, resetOffsetByTime, deleteSubGroup", async () => {
  await withCluster(async (cluster) => {
    const ns = cluster.namesrv;
    const addr = cluster.brokerAddr;
    await new Promise((resolve) => setTimeout(resolve, 200)); // unconsumed messages age past 0.1 s
    const updated = await admin(ns, ["updateSubGroup", "-c", "DefaultCluster", "-g", "CliGroup", "-r", "3", "-q", "2"]);
    const [all, progress, progressJson, connection, producers] = await Promise.all([
      admin(ns, ["consumerProgress", "--json"]),
      admin(ns, ["consumerProgress", "-g", "SeedGroup"]),
      admin(ns, ["consumerProgress", "-g", "SeedGroup", "-t", "SeedTopic", "--json"]),
      admin(ns, ["consumerConnection", "-g", "SeedGroup"]),
      admin(ns, ["producerConnection", "-g", "SeedProducer", "--json"]),
    ]);
    assert.match(ok(updated), new RegExp(`create subscription group to ${addr.replaceAll(".", "\\.")} success\\.`));
    assert.match(updated.stdout, /"retryMaxTimes":3/);
    const groups = json(all).items as { group: string; online: number; lag: number }[];
    assert.deepEqual(groups.map((g) => g.group), ["CliGroup", "SeedGroup"]);
    assert.deepEqual(groups.find((g) => g.group === "SeedGroup"), { ...groups[1], online: 1, lag: 8 });
    assert.match(
      ok(progress),
      /#Topic\s+#Broker Name\s+#QID\s+#Broker Offset\s+#Consumer Offset\s+#Client IP\s+#Diff\s+#Lag\(s\)\s+#LastTime/,
    );
    assert.match(progress.stdout, /^SeedTopic\s+broker-a\s+0\s+2\s+0\s+N\/A\s+2\s+\d+(\.\d)?\s/m);
    assert.match(progress.stdout, /^Consume Diff Total: 8$/m);
    const p = json(progressJson);
    assert.equal(p.lag, 8);
    assert.ok(p.lagSecondsMax >= 0.1, String(p.lagSecondsMax));
    assert.match(ok(connection), /1\s+seed-client@1\s+127\.0\.0\.1:\d+\s+JAVA/);
    assert.match(connection.stdout, /1\s+SeedTopic\s+\*/);
    assert.match(connection.stdout, /^ConsumeType: CONSUME_PASSIVELY$/m);
    assert.equal(json(producers).length, 1, "the seeding heartbeat announced producer group SeedProducer");

    const reset = await admin(ns, ["resetOffsetByTime", "-g", "SeedGroup", "-t", "SeedTopic", "-s", "0", "--json"]);
    assert.deepEqual(json(reset).queues.map((q: { offset: number }) => q.offset), [0, 0, 0, 0]);
    const forward = await admin(ns, ["resetOffsetByTime", "-g", "SeedGroup", "-t", "SeedTopic", "-s", "now"]);
    assert.match(ok(forward), /#brokerName\s+#queueId\s+#offset\nbroker-a\s+0\s+\d/);
    const deleted = await admin(ns, ["deleteSubGroup", "-b", addr, "-g", "CliGroup", "-r", "true"]);
    assert.match(ok(deleted), /delete subscription group \[CliGroup\] from broker \[.*\] success\./);

    const errors = await Promise.all([
      admin(ns, ["consumerProgress", "-g", "NoSuchGroup"]),
      admin(ns, ["consumerConnection", "-g", "CliGroup"]),
      admin(ns, ["consumerConnection"]),
      admin(ns, ["resetOffsetByTime", "-g", "SeedGroup", "-t", "SeedTopic", "-s", "yesterday"]),
      admin(ns, ["resetOffsetByTime", "-g", "SeedGroup", "-t", "NoSuchTopic", "-s", "now"]),
      admin(ns, ["updateSubGroup", "-g", "G"]),
      admin(ns, ["updateSubGroup", "-b", addr, "-g", "G", "-s", "maybe"]),
      admin(ns, ["deleteSubGroup", "-b", "127.0.0.1:1", "-g", "G"]),
    ]);
    failed(errors[0], /Consumer group "NoSuchGroup" has no consume stats/);
    failed(errors[1], /the consumer group\[CliGroup\] not online/);
    failed(errors[2], /Missing -g <consumerGroup>/);
    failed(errors[3], /Invalid timestamp "yesterday"/);
    failed(errors[4], /Topic "NoSuchTopic" not found/);
    failed(errors[5], /Missing -b <brokerAddr> or -c <clusterName>/);
    failed(errors[6], /Invalid -s "maybe": expected true or false/);
    failed(errors[7], /127\.0\.0\.1:1/);
  });
});

Deno.test("admin: queryMsgByKey, queryMsgById, queryMsgByOffset, getBrokerConfig, updateBrokerConfig", async () => {
  await withCluster(async (cluster, seeded) => {
    const ns = cluster.namesrv;
    const addr = cluster.brokerAddr;
    const m = seeded.sent[5];
    const [byKey, byKeyJson, byId, byClientId, byOffset, config, configJson, updated] = await Promise.all([
      admin(ns, ["queryMsgByKey", "-t", "SeedTopic", "-k", "key-5"]),
      admin(ns, ["queryMsgByKey", "-t", "SeedTopic", "-k", "key-5", "--json"]),
      admin(ns, ["queryMsgById", "-i", m.offsetMsgId]),
      admin(ns, ["queryMsgById", "-i", m.msgId, "-t", "SeedTopic", "--json"]),
      admin(ns, [
        "queryMsgByOffset",
        "-t",
        "SeedTopic",
        "-b",
        "broker-a",
        "-i",
        String(m.queueId),
        "-o",
        String(m.queueOffset),
      ]),
      admin(ns, ["getBrokerConfig", "-b", addr]),
      admin(ns, ["getBrokerConfig", "-c", "DefaultCluster", "--json"]),
      admin(ns, ["updateBrokerConfig", "-b", addr, "-k", "defaultQueryMaxNum", "-v", "48"]),
    ]);
    assert.match(
      ok(byKey),
      new RegExp(`${m.msgId}\\s+${m.offsetMsgId}\\s+broker-a\\s+${m.queueId}\\s+${m.queueOffset}\\s+.*body-5$`, "m"),
    );
    assert.equal(json(byKeyJson)[0].keys, "key-5");
    assert.match(ok(byId), /^Topic:\s+SeedTopic$/m);
    assert.match(byId.stdout, /^Keys:\s+\[key-5\]$/m);
    assert.match(byId.stdout, /^Message Body:\s+body-5$/m);
    assert.equal(json(byClientId).offsetMsgId, m.offsetMsgId);
    assert.match(ok(byOffset), new RegExp(`^OffsetID:\\s+${m.offsetMsgId}$`, "m"));
    assert.match(ok(config), new RegExp(`^============${addr.replaceAll(".", "\\.")}============$`, "m"));
    assert.match(config.stdout, /^brokerName\s+= {2}broker-a$/m);
    assert.equal(json(configJson)[addr].brokerClusterName, "DefaultCluster");
    assert.equal(ok(updated).trim(), `update broker config success, ${addr}`);
    assert.equal(json(await admin(ns, ["getBrokerConfig", "-b", addr, "--json"])).defaultQueryMaxNum, "48");

    const errors = await Promise.all([
      admin(ns, ["queryMsgByKey", "-t", "SeedTopic", "-k", "nope"]),
      admin(ns, ["queryMsgById", "-i", "not-hex"]),
      admin(ns, ["queryMsgById", "-i", "0".repeat(32)]),
      admin(ns, ["queryMsgByOffset", "-t", "SeedTopic", "-b", "broker-a", "-i", "0", "-o", "99"]),
      admin(ns, ["queryMsgByOffset", "-t", "SeedTopic", "-b", "broker-z", "-i", "0", "-o", "0"]),
      admin(ns, ["updateBrokerConfig", "-b", addr, "-k", "brokerName", "-v", "x"]),
      admin(ns, ["getBrokerConfig", "-b", "127.0.0.1:1"]),
    ]);
    failed(errors[0], /No message with key "nope" in topic "SeedTopic"/);
    failed(errors[1], /Invalid message id "not-hex"/);
    failed(errors[2], /No message with offsetMsgId/);
    failed(errors[3], /No message at offset 99 of SeedTopic\/broker-a\/0/);
    failed(errors[4], /Broker "broker-z" not found/);
    failed(errors[5], /brokerName/);
    failed(errors[6], /127\.0\.0\.1:1/);
  });
});

Deno.test("admin: dlqList, dlqResend and a rate-limited dlqRedrive that resumes where it stopped", async () => {
  await withCluster(async (cluster, seeded) => {
    const ns = cluster.namesrv;
    const list = await admin(ns, ["dlqList", "--group", "SeedGroup"]);
    assert.match(ok(list), /^DLQ %DLQ%SeedGroup: 3 message\(s\)$/m);
    assert.match(
      list.stdout,
      new RegExp(`broker-a\\s+0\\s+0\\s+${seeded.sent[0].msgId}\\s+SeedTopic\\s+key-0\\s+TagA`),
    );
    const listJson = json(await admin(ns, ["dlqList", "--group", "SeedGroup", "--max", "1", "--json"]));
    assert.equal(listJson.queues[0].messages.length, 1);
    assert.equal(listJson.queues[0].nextOffset, 1);

    const resent = await admin(ns, ["dlqResend", "--group", "SeedGroup", "--msgId", seeded.sent[1].msgId]);
    assert.match(ok(resent), new RegExp(`^resent ${seeded.sent[1].msgId}: to %RETRY%SeedGroup queue 0$`, "m"));
    assert.match(resent.stderr, /"action":"dlq.resend"/, "audited on stderr");

    const started = Date.now();
    const redrive = await admin(ns, ["dlqRedrive", "--group", "SeedGroup", "--rate", "5", "--max", "2"]);
    assert.equal(redrive.stdout.split("\n").filter((l) => l.startsWith("resent ")).length, 2);
    assert.match(ok(redrive), /redrive of SeedGroup: 2 resent, 0 failed \(limit\)/);
    assert.ok(Date.now() - started >= 150, "two messages at 5/s take at least 0.2 s");
    const rest = json(
      await admin(ns, ["dlqRedrive", "--group", "SeedGroup", "--rate", "100", "--json"]).then((r) => {
        r.stdout = r.stdout.trim().split("\n").at(-1)!;
        return r;
      }),
    );
    assert.deepEqual(rest, { group: "SeedGroup", resent: 1, failed: 0, stoppedBy: "done" });
    const done = json(await admin(ns, ["dlqList", "--group", "SeedGroup", "--json"]));
    assert.equal(done.queues[0].redriveOffset, 3);

    const errors = await Promise.all([
      admin(ns, ["dlqList", "--group", "NoSuchGroup"]),
      admin(ns, ["dlqResend", "--group", "SeedGroup", "--msgId", seeded.sent[7].offsetMsgId]),
      admin(ns, ["dlqRedrive", "--group", "SeedGroup", "--rate", "0"]),
      admin(ns, ["dlqRedrive", "--group", "SeedGroup", "--rate", "fast"]),
      admin(ns, ["dlqResend", "--group", "SeedGroup"]),
    ]);
    failed(errors[0], /Consumer group "NoSuchGroup" has no dead-letter queue/);
    failed(errors[1], /is in topic "SeedTopic", not in the DLQ "%DLQ%SeedGroup"/);
    failed(errors[2], /Invalid rate 0/);
    failed(errors[3], /Invalid --rate "fast"/);
    failed(errors[4], /Missing --msgId <id>/);
  });
});

Deno.test("admin: against a broker with aclEnable, requests are refused unsigned and served signed with --accessKey/--secretKey", async () => {
  const dir = await tempDir("admin-acl");
  await Deno.writeTextFile(
    `${dir.path}/plain_acl.yml`,
    "accounts:\n  - accessKey: adminAK\n    secretKey: adminSecret\n    admin: true\n",
  );
  const cluster = await startCluster({ aclEnable: "true", aclFile: `${dir.path}/plain_acl.yml` });
  try {
    const ns = cluster.namesrv;
    const unsigned = await admin(ns, ["updateTopic", "-c", "DefaultCluster", "-t", "AclTopic"]);
    failed(unsigned, /AclException/);
    const keys = ["--accessKey", "adminAK", "--secretKey", "adminSecret"];
    const signed = await admin(ns, ["updateTopic", "-c", "DefaultCluster", "-t", "AclTopic", ...keys]);
    assert.match(ok(signed), /create topic to .* success\./);
    assert.match(ok(await admin(ns, ["brokerStatus", "-c", "DefaultCluster", ...keys])), /brokerVersionDesc/);
    const wrong = await admin(ns, [
      "brokerStatus",
      "-c",
      "DefaultCluster",
      "--accessKey",
      "adminAK",
      "--secretKey",
      "x",
    ]);
    failed(wrong, /Check signature failed/);
    const half = await admin(ns, ["brokerStatus", "-c", "DefaultCluster", "--accessKey", "adminAK"]);
    assert.equal(half.code, 2);
  } finally {
    await cluster.close();
    await dir.remove();
  }
});

/**
 * The `admin` role: mqadmin-style subcommands over the remoting protocol (never by reading store
 * files). Aligned tables by default, `--json` for scripts, a non-zero exit and a one-line reason
 * on failure. Needs only network access (and the NAMESRV_ADDR variable if set).
 *
 * @module
 */

import { RemotingClient } from "../client/remoting_client.ts";
import { AdminOps, nameServerSource } from "../ops/admin_ops.ts";
import { AuditLog } from "../ops/audit.ts";
import { remoteInvoker, signingInvoker } from "../ops/invoker.ts";
import { type AdminCommand, COMMON_OPTIONS, parseFlags } from "./_command.ts";
import { bench } from "./bench.ts";
import { brokerStatus } from "./broker_status.ts";
import { clusterList } from "./cluster_list.ts";
import { consumerConnection } from "./consumer_connection.ts";
import { consumerProgress } from "./consumer_progress.ts";
import { deleteSubGroup } from "./delete_sub_group.ts";
import { deleteTopic } from "./delete_topic.ts";
import { dlqList } from "./dlq_list.ts";
import { dlqRedrive } from "./dlq_redrive.ts";
import { dlqResend } from "./dlq_resend.ts";
import { getBrokerConfig } from "./get_broker_config.ts";
import { producerConnection } from "./producer_connection.ts";
import { queryMsgById } from "./query_msg_by_id.ts";
import { queryMsgByKey } from "./query_msg_by_key.ts";
import { queryMsgByOffset } from "./query_msg_by_offset.ts";
import { resetOffsetByTime } from "./reset_offset_by_time.ts";
import { sendMessage } from "./send_message.ts";
import { topicList } from "./topic_list.ts";
import { topicRoute } from "./topic_route.ts";
import { topicStatus } from "./topic_status.ts";
import { updateBrokerConfig } from "./update_broker_config.ts";
import { updateSubGroup } from "./update_sub_group.ts";
import { updateTopic } from "./update_topic.ts";

/** Every subcommand, by name. */
export const ADMIN_COMMANDS: ReadonlyMap<string, AdminCommand> = new Map(
  [
    clusterList,
    brokerStatus,
    topicList,
    topicRoute,
    topicStatus,
    updateTopic,
    deleteTopic,
    updateSubGroup,
    deleteSubGroup,
    consumerProgress,
    consumerConnection,
    producerConnection,
    resetOffsetByTime,
    queryMsgByKey,
    queryMsgById,
    queryMsgByOffset,
    sendMessage,
    getBrokerConfig,
    updateBrokerConfig,
    dlqList,
    dlqResend,
    dlqRedrive,
    bench,
  ].map((c) => [c.name, c]),
);

/** Exit code for a failed command. */
const EXIT_FAILED = 1;
/** Exit code for bad usage. */
const EXIT_USAGE = 2;
/** Per-call timeout: an unreachable address fails in seconds, not minutes. */
const CALL_TIMEOUT_MS = 5000;

function usage(): string {
  const width = Math.max(...[...ADMIN_COMMANDS.keys()].map((n) => n.length));
  const lines = [...ADMIN_COMMANDS.values()].map((c) => `  ${c.name.padEnd(width)}  ${c.description}`);
  return `Usage: denomq admin <subcommand> [options]

Subcommands:
${lines.join("\n")}

Common options:
  -n, --namesrvAddr <addrs>   NameServer addresses, ';'-separated [env NAMESRV_ADDR, default 127.0.0.1:9876]
      --json                  machine-readable output
      --accessKey <key>       sign requests for brokers with aclEnable [env DENOMQ_ACCESS_KEY]
      --secretKey <secret>    the account's secret key [env DENOMQ_SECRET_KEY]
  -h, --help                  show help`;
}

function commandUsage(command: AdminCommand): string {
  return `Usage: denomq admin ${command.name} [options]\n\n${command.description}\n\nOptions:\n${command.usage}${
    command.usage ? "\n" : ""
  }  -n, --namesrvAddr <addrs>   NameServer addresses\n      --json                  JSON output`;
}

/** An environment variable, or undefined when unset or not readable under the permission set. */
function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Runs `denomq admin …`; returns the exit code. */
export async function runAdmin(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (!name || name === "-h" || name === "--help") {
    console.log(usage());
    return name ? 0 : EXIT_USAGE;
  }
  const command = ADMIN_COMMANDS.get(name);
  if (!command) {
    console.error(`denomq admin: unknown subcommand "${name}"\n\n${usage()}`);
    return EXIT_USAGE;
  }
  let values;
  try {
    values = parseFlags(command, rest).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    console.error(`denomq admin ${name}: ${(error as Error).message}\n\n${commandUsage(command)}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    console.log(commandUsage(command));
    return 0;
  }
  const client = new RemotingClient({ timeoutMs: CALL_TIMEOUT_MS });
  const nameServers = String(values.namesrvAddr ?? env("NAMESRV_ADDR") ?? "127.0.0.1:9876").split(";")
    .map((a) => a.trim()).filter(Boolean);
  const accessKey = (values.accessKey as string | undefined) ?? env("DENOMQ_ACCESS_KEY");
  const secretKey = (values.secretKey as string | undefined) ?? env("DENOMQ_SECRET_KEY");
  if ((accessKey === undefined) !== (secretKey === undefined)) {
    console.error(`denomq admin ${name}: Give both --accessKey and --secretKey, or neither`);
    return EXIT_USAGE;
  }
  const invoker = accessKey && secretKey
    ? signingInvoker(remoteInvoker(client), { accessKey, secretKey })
    : remoteInvoker(client);
  const ops = new AdminOps({
    invoker,
    source: nameServerSource(invoker, nameServers, CALL_TIMEOUT_MS),
    timeoutMs: CALL_TIMEOUT_MS,
  });
  // The CLI cannot write files (its permission set is network only): audit lines go to stderr.
  const audit = new AuditLog({ sink: (entry) => console.error(JSON.stringify({ audit: entry })) });
  try {
    await command.run({
      values,
      json: values.json === true,
      client,
      ops,
      audit,
      nameServers,
      out: (line) => console.log(line),
    });
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`denomq admin ${name}: ${message.split("\n")[0]}`);
    return EXIT_FAILED;
  } finally {
    await client.close();
  }
}

export { COMMON_OPTIONS };

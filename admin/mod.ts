/**
 * The `admin` role: mqadmin-style subcommands over the remoting protocol (never by reading store
 * files). Aligned tables by default, `--json` for scripts, a non-zero exit and a one-line reason
 * on failure.
 *
 * @module
 */

import { RemotingClient } from "../client/remoting_client.ts";
import { type AdminCommand, AdminError, COMMON_OPTIONS, parseFlags } from "./_command.ts";
import { clusterList } from "./cluster_list.ts";
import { topicList } from "./topic_list.ts";
import { topicRoute } from "./topic_route.ts";
import { updateTopic } from "./update_topic.ts";

/** Every subcommand, by name. */
export const ADMIN_COMMANDS: ReadonlyMap<string, AdminCommand> = new Map(
  [clusterList, topicList, topicRoute, updateTopic].map((c) => [c.name, c]),
);

/** Exit code for a failed command. */
const EXIT_FAILED = 1;
/** Exit code for bad usage. */
const EXIT_USAGE = 2;

function usage(): string {
  const width = Math.max(...[...ADMIN_COMMANDS.keys()].map((n) => n.length));
  const lines = [...ADMIN_COMMANDS.values()].map((c) => `  ${c.name.padEnd(width)}  ${c.description}`);
  return `Usage: denomq admin <subcommand> [options]

Subcommands:
${lines.join("\n")}

Common options:
  -n, --namesrvAddr <addrs>   NameServer addresses, ';'-separated [env NAMESRV_ADDR, default 127.0.0.1:9876]
      --json                  machine-readable output
  -h, --help                  show help`;
}

function commandUsage(command: AdminCommand): string {
  return `Usage: denomq admin ${command.name} [options]\n\n${command.description}\n\nOptions:\n${command.usage}${
    command.usage ? "\n" : ""
  }  -n, --namesrvAddr <addrs>   NameServer addresses\n      --json                  JSON output`;
}

function defaultNameServers(): string {
  try {
    return Deno.env.get("NAMESRV_ADDR") ?? "127.0.0.1:9876";
  } catch {
    return "127.0.0.1:9876";
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
  const client = new RemotingClient({ timeoutMs: 5000 });
  const nameServers = String(values.namesrvAddr ?? defaultNameServers()).split(";").map((a) => a.trim()).filter(
    Boolean,
  );
  try {
    await command.run({ values, json: values.json === true, client, nameServers, out: (line) => console.log(line) });
    return 0;
  } catch (error) {
    const message = error instanceof AdminError || (error as Error).name === "ResponseError"
      ? (error as Error).message
      : String(error);
    console.error(`denomq admin ${name}: ${message.split("\n")[0]}`);
    return EXIT_FAILED;
  } finally {
    await client.close();
  }
}

export { COMMON_OPTIONS };

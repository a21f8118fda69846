/**
 * denomq: one executable, four roles.
 *
 * ```sh
 * deno run -P=nameserver main.ts nameserver [--port 9876]
 * deno run -P=broker main.ts broker -c broker.conf
 * deno run -P=admin main.ts admin clusterList -n 127.0.0.1:9876
 * deno run -P=dev main.ts dev          # NameServer + broker in one process, ./.denomq-data
 * ```
 *
 * Every server prints one JSON "ready" line on stdout with its address, logs JSON lines on
 * stderr, and shuts down cleanly on SIGTERM/SIGINT. Bad flags print the usage and exit 2.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { configureLogging } from "./remoting/log.ts";

// Roles are imported when chosen, so a NameServer never loads the broker's store code.

/** Exit code for bad usage (flags, config). */
const EXIT_USAGE = 2;

const USAGE = `denomq: a RocketMQ-compatible message broker for Deno

Usage: denomq <command> [options]

Commands:
  nameserver   run a NameServer (route registry, default port 9876)
  broker       run a broker (message store, default port 10911)
  admin        administer a cluster (mqadmin-style subcommands)
  dev          run a NameServer and a broker in one process with a local data directory

Run "denomq <command> --help" for a command's options.`;

const NAMESERVER_USAGE = `Usage: denomq nameserver [options]

Options:
  -c, --config <file>     namesrv.conf (Java properties: listenPort, orderMessageEnable, ...)
  -p, --port <port>       listen port (listenPort; 0 picks a free one) [default: 9876]
      --host <ip>         listen address [default: 0.0.0.0]
      --http-port <port>  serve the HTTP admin API, dashboard and /metrics on this port [default: off]
      --http-host <ip>    HTTP admin address; not loopback requires a token [default: 127.0.0.1]
      --http-token-file <file>  bearer token for the HTTP admin [default: env DENOMQ_HTTP_TOKEN]
      --log-level <lvl>   debug | info | warning | error [default: info]
  -h, --help              show this help`;

const BROKER_USAGE = `Usage: denomq broker [options]

Options:
  -c, --config <file>     broker.conf (Java properties, RocketMQ key names)
  -n, --namesrv <addrs>   NameServer addresses, ';'-separated (namesrvAddr)
  -p, --port <port>       listen port (listenPort; 0 picks a free one) [default: 10911]
      --store <dir>       store root (storePathRootDir)
      --set <key=value>   any broker.conf key; repeatable
      --http-port <port>  serve the HTTP admin API, dashboard and /metrics on this port [default: off]
      --http-host <ip>    HTTP admin address; not loopback requires a token [default: 127.0.0.1]
      --http-token-file <file>  bearer token for the HTTP admin [default: env DENOMQ_HTTP_TOKEN]
      --log-level <lvl>   debug | info | warning | error [default: info]
  -h, --help              show this help

Environment: DENOMQ_<KEY>=value sets a broker.conf key (e.g. DENOMQ_FLUSHDISKTYPE=SYNC_FLUSH);
flags override the environment, which overrides the file.`;

const DEV_USAGE = `Usage: denomq dev [options]

Runs a NameServer and a broker (autoCreateTopicEnable=true) in one process.

Options:
      --data <dir>        data directory [default: ./.denomq-data]
      --host <ip>         address both servers bind [default: 127.0.0.1]
      --namesrv-port <p>  NameServer port [default: 9876]
      --broker-port <p>   broker port [default: 10911]
      --set <key=value>   any broker.conf key; repeatable
      --http-port <port>  serve the HTTP admin API, dashboard and /metrics on this port [default: off]
      --http-host <ip>    HTTP admin address; not loopback requires a token [default: 127.0.0.1]
      --http-token-file <file>  bearer token for the HTTP admin [default: env DENOMQ_HTTP_TOKEN]
      --log-level <lvl>   debug | info | warning | error [default: info]
  -h, --help              show this help`;

function fail(usage: string, message: string): never {
  console.error(`denomq: ${message}\n\n${usage}`);
  Deno.exit(EXIT_USAGE);
}

function parse<T extends NonNullable<Parameters<typeof parseArgs>[0]>["options"]>(
  args: string[],
  usage: string,
  options: T,
) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: false });
  } catch (error) {
    fail(usage, (error as Error).message);
  }
}

function portOf(value: string | undefined, usage: string, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) fail(usage, `Invalid ${flag} "${value}": expected a port number 0-65535`);
  return port;
}

type LogLevel = "debug" | "info" | "warning" | "error";

function logLevelOf(value: string | undefined, usage: string): LogLevel {
  const level = value ?? "info";
  if (!["debug", "info", "warning", "error"].includes(level)) {
    fail(usage, `Invalid --log-level "${level}": expected debug, info, warning or error`);
  }
  return level as LogLevel;
}

function ready(fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ event: "ready", pid: Deno.pid, ...fields }));
}

/**
 * Runs `close` on the first SIGTERM/SIGINT, then exits 0. Installed before the ready line is
 * printed, so a supervisor that stops us right after "ready" gets a clean shutdown.
 */
function closeOnSignal(close: () => Promise<void>): void {
  let closing = false;
  const onSignal = async () => {
    if (closing) return;
    closing = true;
    try {
      await close();
      Deno.exit(0);
    } catch (error) {
      console.error(`denomq: shutdown failed: ${(error as Error).stack ?? error}`);
      Deno.exit(1);
    }
  };
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
}

/**
 * Drops permissions a role no longer needs once started. Under the deno.json sets they are
 * mostly not granted anyway; the compiled binary is granted what all roles together need, and
 * this narrows it per role: a NameServer keeps only the network after reading its config.
 */
function dropPermissions(names: Deno.PermissionName[]): void {
  for (const name of names) {
    try {
      Deno.permissions.revokeSync({ name } as Deno.PermissionDescriptor);
    } catch {
      // A permission kind this runtime cannot revoke: nothing more to drop.
    }
  }
}

const HTTP_OPTIONS = {
  "http-port": { type: "string" },
  "http-host": { type: "string" },
  "http-token-file": { type: "string" },
} as const;

/** The HTTP admin flags: undefined when off; a bad port or a non-loopback host without a token exit 2. */
async function httpOptionsOf(
  values: Record<string, unknown>,
  usage: string,
): Promise<{ port: number; hostname: string; token?: string } | undefined> {
  const port = portOf(values["http-port"] as string | undefined, usage, "--http-port");
  if (port === undefined) return undefined;
  const hostname = (values["http-host"] as string | undefined) ?? "127.0.0.1";
  const { readHttpToken, isLoopbackBind } = await import("./http/server.ts");
  let token: string | undefined;
  try {
    token = await readHttpToken(values["http-token-file"] as string | undefined);
  } catch (error) {
    fail(usage, `Cannot read --http-token-file: ${(error as Error).message}`);
  }
  if (token !== undefined && token.length < 16) {
    fail(usage, `The HTTP admin token is ${token.length} characters, expected at least 16`);
  }
  if (!isLoopbackBind(hostname) && token === undefined) {
    fail(
      usage,
      `Refusing to serve the HTTP admin on "${hostname}" without a token: set DENOMQ_HTTP_TOKEN or --http-token-file`,
    );
  }
  return { port, hostname, token };
}

async function runNameServer(args: string[]): Promise<void> {
  const { values } = parse(args, NAMESERVER_USAGE, {
    config: { type: "string", short: "c" },
    port: { type: "string", short: "p" },
    host: { type: "string" },
    ...HTTP_OPTIONS,
    "log-level": { type: "string" },
  });
  if (values.help) return console.log(NAMESERVER_USAGE);
  const http = await httpOptionsOf(values, NAMESERVER_USAGE);
  await configureLogging(logLevelOf(values["log-level"] as string | undefined, NAMESERVER_USAGE));
  const { applyNameServerSettings, ConfigError, DEFAULT_NAMESERVER_CONFIG, readNameServerConfigFile, startNameServer } =
    await import("./nameserver/mod.ts");
  const config = { ...DEFAULT_NAMESERVER_CONFIG };
  try {
    if (values.config) {
      const unknown = applyNameServerSettings(config, await readNameServerConfigFile(values.config as string));
      for (const key of unknown) console.error(`denomq: warning: unknown namesrv.conf key "${key}" ignored`);
    }
  } catch (error) {
    if (error instanceof ConfigError) fail(NAMESERVER_USAGE, error.message);
    throw error;
  }
  const port = portOf(values.port as string | undefined, NAMESERVER_USAGE, "--port");
  if (port !== undefined) config.listenPort = port;
  if (values.host) config.listenHost = values.host as string;
  const nameServer = startNameServer({ config });
  const httpServer = http && (await import("./nameserver/http.ts")).startNameServerHttp(nameServer, http);
  dropPermissions(["read", "write", "env", "sys", "run", "ffi"]);
  closeOnSignal(async () => {
    await httpServer?.close();
    await nameServer.close();
  });
  ready({
    role: "nameserver",
    addr: nameServer.addr,
    port: nameServer.port,
    httpAddr: httpServer?.addr,
    httpPort: httpServer?.port,
  });
}

function settingsOf(list: unknown, usage: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const item of (list as string[] | undefined) ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0) fail(usage, `Invalid --set "${item}": expected key=value`);
    settings.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return settings;
}

function brokerEnvSettings(): Map<string, string> {
  const settings = new Map<string, string>();
  let env: Record<string, string> = {};
  try {
    env = Deno.env.toObject();
  } catch {
    return settings; // no env permission: the environment simply does not configure us
  }
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith("DENOMQ_") && name !== "DENOMQ_SEED" && name !== "DENOMQ_HTTP_TOKEN") {
      settings.set(name.slice(7), value);
    }
  }
  return settings;
}

async function runBroker(args: string[]): Promise<void> {
  const { values } = parse(args, BROKER_USAGE, {
    config: { type: "string", short: "c" },
    namesrv: { type: "string", short: "n" },
    port: { type: "string", short: "p" },
    store: { type: "string" },
    set: { type: "string", multiple: true },
    ...HTTP_OPTIONS,
    "log-level": { type: "string" },
  });
  if (values.help) return console.log(BROKER_USAGE);
  const http = await httpOptionsOf(values, BROKER_USAGE);
  await configureLogging(logLevelOf(values["log-level"] as string | undefined, BROKER_USAGE));
  const { ConfigError, loadBrokerConfig, startBroker } = await import("./broker/mod.ts");
  const flags = settingsOf(values.set, BROKER_USAGE);
  const port = portOf(values.port as string | undefined, BROKER_USAGE, "--port");
  if (port !== undefined) flags.set("listenPort", String(port));
  if (values.namesrv) flags.set("namesrvAddr", values.namesrv as string);
  if (values.store) flags.set("storePathRootDir", values.store as string);
  let loaded;
  try {
    loaded = await loadBrokerConfig({ file: values.config as string | undefined, env: brokerEnvSettings(), flags });
  } catch (error) {
    if (error instanceof ConfigError) fail(BROKER_USAGE, error.message);
    throw error;
  }
  for (const warning of loaded.warnings) console.error(`denomq: warning: ${warning}`);
  let broker;
  try {
    broker = await startBroker({ config: loaded.config });
  } catch (error) {
    if (error instanceof ConfigError) fail(BROKER_USAGE, error.message);
    throw error;
  }
  const httpServer = http && (await import("./broker/http.ts")).startBrokerHttp(broker, http);
  dropPermissions(["run", "ffi"]);
  closeOnSignal(async () => {
    await httpServer?.close();
    await broker.close();
  });
  ready({
    role: "broker",
    addr: broker.addr,
    port: broker.port,
    brokerName: loaded.config.brokerName,
    httpAddr: httpServer?.addr,
    httpPort: httpServer?.port,
  });
}

async function runDev(args: string[]): Promise<void> {
  const { values } = parse(args, DEV_USAGE, {
    data: { type: "string" },
    host: { type: "string" },
    "namesrv-port": { type: "string" },
    "broker-port": { type: "string" },
    set: { type: "string", multiple: true },
    ...HTTP_OPTIONS,
    "log-level": { type: "string" },
  });
  if (values.help) return console.log(DEV_USAGE);
  const http = await httpOptionsOf(values, DEV_USAGE);
  await configureLogging(logLevelOf(values["log-level"] as string | undefined, DEV_USAGE));
  const { startNameServer } = await import("./nameserver/mod.ts");
  const { ConfigError, loadBrokerConfig, startBroker } = await import("./broker/mod.ts");
  const namesrvPort = portOf(values["namesrv-port"] as string | undefined, DEV_USAGE, "--namesrv-port") ?? 9876;
  const brokerPort = portOf(values["broker-port"] as string | undefined, DEV_USAGE, "--broker-port") ?? 10911;
  const host = (values.host as string | undefined) ?? "127.0.0.1";
  const nameServer = startNameServer({ config: { listenPort: namesrvPort, listenHost: host } });
  const flags = settingsOf(values.set, DEV_USAGE);
  const defaults = new Map([
    ["storePathRootDir", (values.data as string | undefined) ?? "./.denomq-data"],
    ["namesrvAddr", `127.0.0.1:${nameServer.port}`],
    ["listenPort", String(brokerPort)],
    ["brokerIP1", "127.0.0.1"],
    ["listenHost", host],
    ["autoCreateTopicEnable", "true"],
  ]);
  let loaded;
  try {
    loaded = await loadBrokerConfig({ env: defaults, flags });
  } catch (error) {
    await nameServer.close();
    if (error instanceof ConfigError) fail(DEV_USAGE, error.message);
    throw error;
  }
  for (const warning of loaded.warnings) console.error(`denomq: warning: ${warning}`);
  const broker = await startBroker({ config: loaded.config });
  let httpServer: { addr: string; port: number; close(): Promise<void> } | undefined;
  if (http) {
    // One HTTP admin for both roles: the NameServer's cluster view, with this broker invoked in-process.
    const { BrokerMetrics, brokerReadyChecks, createBrokerProcessors } = await import("./broker/http.ts");
    const { startNameServerHttp } = await import("./nameserver/http.ts");
    const servers = [{ port: "main", server: broker.server }];
    if (broker.vipServer) servers.push({ port: "vip", server: broker.vipServer });
    const metrics = new BrokerMetrics(broker.services, servers);
    metrics.start();
    const server = startNameServerHttp(nameServer, {
      ...http,
      localBrokers: new Map([[broker.addr, createBrokerProcessors(broker.services)]]),
      extraMetrics: () => metrics.render(),
      extraReady: () => brokerReadyChecks(broker.services),
    });
    httpServer = {
      ...server,
      close: () => {
        metrics.stop();
        return server.close();
      },
    };
  }
  closeOnSignal(async () => {
    await httpServer?.close();
    await broker.close();
    await nameServer.close();
  });
  ready({
    role: "dev",
    addr: nameServer.addr,
    namesrvAddr: `127.0.0.1:${nameServer.port}`,
    brokerAddr: broker.addr,
    storePathRootDir: loaded.config.storePathRootDir,
    httpAddr: httpServer?.addr,
    httpPort: httpServer?.port,
  });
}

/**
 * A path the role's permission set does not cover (a store or config outside the defaults)
 * stops the start with one line saying how to grant it, rather than a stack trace.
 */
async function startRoleOrExplain(start: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
    console.error(
      `denomq: ${error.message.split(", run again")[0]}: the role's permission set covers ./conf and its default ` +
        `store (./store; ./.denomq-data for dev) only; grant other paths with --allow-read=<path> ` +
        `--allow-write=<path> (README, "Permissions")`,
    );
    Deno.exit(EXIT_USAGE);
  }
}

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  switch (command) {
    case "nameserver":
      await startRoleOrExplain(() => runNameServer(rest));
      break;
    case "broker":
      await startRoleOrExplain(() => runBroker(rest));
      break;
    case "dev":
      await startRoleOrExplain(() => runDev(rest));
      break;
    case "admin":
      {
        const { runAdmin } = await import("./admin/mod.ts");
        dropPermissions(["read", "write", "sys", "run", "ffi"]);
        Deno.exit(await runAdmin(rest));
      }
      break;
    case "-h":
    case "--help":
    case "help":
      console.log(USAGE);
      break;
    default:
      fail(USAGE, command ? `Unknown command "${command}"` : "Missing command");
  }
}

/**
 * The OpenAPI 3.1 document of the HTTP admin, served at `/openapi.json`. A test checks that every
 * route the app registers is listed here and every path listed here is routed.
 *
 * @module
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str: Schema = { type: "string" };
const int: Schema = { type: "integer" };
const num: Schema = { type: "number" };
const bool: Schema = { type: "boolean" };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: "object",
  properties,
  ...(required.length ? { required } : {}),
});
const arr = (items: Schema): Schema => ({ type: "array", items });
const map = (values: Schema): Schema => ({ type: "object", additionalProperties: values });
const page = (item: string): Schema =>
  obj({ items: arr(ref(item)), total: int, page: int, pageSize: int }, ["items", "total", "page", "pageSize"]);

function query(name: string, schema: Schema, description: string, required = false): Schema {
  return { name, in: "query", required, schema, description };
}

function path(name: string, description: string): Schema {
  return { name, in: "path", required: true, schema: str, description };
}

const ERRORS = {
  "400": { $ref: "#/components/responses/Error" },
  "401": { $ref: "#/components/responses/Error" },
  "404": { $ref: "#/components/responses/Error" },
  "502": { $ref: "#/components/responses/Error" },
  "504": { $ref: "#/components/responses/Error" },
};

function op(
  summary: string,
  response: Schema,
  extra: { parameters?: Schema[]; body?: Schema; status?: string; tag: string; open?: boolean },
): Schema {
  return {
    summary,
    tags: [extra.tag],
    ...(extra.open ? { security: [] } : {}),
    ...(extra.parameters ? { parameters: extra.parameters } : {}),
    ...(extra.body ? { requestBody: { required: true, content: { "application/json": { schema: extra.body } } } } : {}),
    responses: {
      [extra.status ?? "200"]: { description: "OK", content: { "application/json": { schema: response } } },
      ...ERRORS,
    },
  };
}

const SCHEMAS: Record<string, Schema> = {
  Error: obj({
    code: { ...int, description: "The HTTP status" },
    name: { ...str, description: "Stable error name, e.g. NotFound, TOPIC_NOT_EXIST, RateLimited" },
    message: str,
  }, ["code", "name", "message"]),
  BrokerSummary: obj({
    cluster: str,
    brokerName: str,
    brokerId: int,
    addr: str,
    version: str,
    putTps: num,
    getTps: num,
    msgPutTotalTodayNow: int,
    msgGetTotalTodayNow: int,
    commitLogDiskRatio: num,
    runtime: str,
    error: str,
  }),
  TopicSummary: obj({
    topic: str,
    kind: { type: "string", enum: ["normal", "retry", "dlq", "system"] },
    brokers: arr(str),
    readQueueNums: int,
    writeQueueNums: int,
    perm: int,
    messages: int,
    maxOffsetTotal: int,
    lastUpdateTimestamp: int,
    putTps: num,
    error: str,
  }),
  QueueOffsets: obj({
    topic: str,
    brokerName: str,
    queueId: int,
    minOffset: int,
    maxOffset: int,
    lastUpdateTimestamp: int,
  }),
  GroupSummary: obj({
    group: str,
    system: bool,
    online: int,
    consumeType: str,
    messageModel: str,
    consumeTps: num,
    lag: int,
    lagSecondsMax: num,
    retryMaxTimes: int,
    error: str,
  }),
  ConsumerProgress: obj({
    group: str,
    consumeTps: num,
    lag: int,
    lagSecondsMax: num,
    queues: arr(obj({
      topic: str,
      brokerName: str,
      queueId: int,
      brokerOffset: int,
      consumerOffset: int,
      lag: int,
      lagSeconds: num,
      lastTimestamp: int,
      clientId: str,
    })),
  }),
  ConsumerConnection: obj({
    connections: arr(obj({ clientId: str, clientAddr: str, language: str, version: int })),
    subscriptions: arr(obj({ topic: str, subString: str, expressionType: str })),
    consumeType: str,
    messageModel: str,
    consumeFromWhere: str,
    total: int,
    page: int,
    pageSize: int,
  }),
  Message: obj({
    msgId: str,
    offsetMsgId: str,
    topic: str,
    brokerName: str,
    queueId: int,
    queueOffset: int,
    commitLogOffset: int,
    tags: str,
    keys: str,
    bornTimestamp: int,
    storeTimestamp: int,
    bornHost: str,
    storeHost: str,
    reconsumeTimes: int,
    sysFlag: int,
    flag: int,
    properties: map(str),
    bodySize: int,
    body: str,
    bodyEncoding: { type: "string", enum: ["utf8", "base64"] },
    bodyTruncated: bool,
  }),
  Pulled: obj({ status: str, messages: arr(ref("Message")), nextBeginOffset: int, minOffset: int, maxOffset: int }),
  DlqPage: obj({
    group: str,
    topic: str,
    total: int,
    queues: arr(obj({
      brokerName: str,
      queueId: int,
      minOffset: int,
      maxOffset: int,
      redriveOffset: int,
      fromOffset: int,
      nextOffset: int,
      messages: arr(ref("Message")),
    })),
  }),
  DlqOutcome: obj({
    msgId: str,
    offsetMsgId: str,
    brokerName: str,
    queueOffset: int,
    outcome: { type: "string", enum: ["resent", "failed"] },
    detail: str,
  }),
  RedriveJob: obj({
    id: str,
    group: str,
    state: { type: "string", enum: ["running", "done", "failed", "stopped", "error"] },
    startedAt: str,
    finishedAt: str,
    resent: int,
    failed: int,
    stoppedBy: str,
    error: str,
    outcomes: arr(ref("DlqOutcome")),
  }),
  AuditEntry: obj({ at: str, actor: str, action: str, target: str, outcome: str, detail: map({}) }),
  Ready: obj({
    ready: bool,
    role: str,
    checks: arr(obj({ name: str, ok: bool, detail: str })),
  }),
};

const pageParams = [
  query("page", int, "1-based page"),
  query("pageSize", int, "items per page, 1-100 (default 20)"),
];

/** The document for a role's server. */
export function openApiDocument(role: string): Record<string, unknown> {
  const paths: Record<string, Record<string, Schema>> = {
    "/healthz": { get: op("Liveness", obj({ status: str, role: str }), { tag: "health", open: true }) },
    "/readyz": {
      get: {
        ...op("Readiness: 200 when every check passes, 503 otherwise", ref("Ready"), { tag: "health", open: true }),
      },
    },
    "/metrics": {
      get: {
        summary: "Prometheus metrics (text format 0.0.4)",
        tags: ["health"],
        responses: { "200": { description: "OK", content: { "text/plain": { schema: str } } }, ...ERRORS },
      },
    },
    "/openapi.json": { get: op("This document", map({}), { tag: "health" }) },
    "/api/session": {
      get: op("Whether a login is needed and held", obj({ role: str, authRequired: bool, authenticated: bool }), {
        tag: "auth",
        open: true,
      }),
    },
    "/api/login": {
      post: op("Log in with the token; sets an HttpOnly session cookie", obj({ authenticated: bool }), {
        tag: "auth",
        open: true,
        body: obj({ token: str }, ["token"]),
      }),
    },
    "/api/logout": { post: op("End the session", obj({ authenticated: bool }), { tag: "auth", open: true }) },
    "/api/cluster": {
      get: op(
        "Brokers of the cluster with their runtime numbers",
        obj({ role: str, brokers: arr(ref("BrokerSummary")) }),
        {
          tag: "cluster",
        },
      ),
    },
    "/api/brokers/{addr}/runtime": {
      get: op("A broker's runtime info (GET_BROKER_RUNTIME_INFO)", map(str), {
        tag: "cluster",
        parameters: [path("addr", "ip:port, URL-encoded")],
      }),
    },
    "/api/brokers/{addr}/config": {
      get: op("A broker's config (GET_BROKER_CONFIG)", map(str), {
        tag: "cluster",
        parameters: [path("addr", "ip:port, URL-encoded")],
      }),
      put: op("Change one key at run time (UPDATE_BROKER_CONFIG)", obj({ addr: str, key: str, value: str }), {
        tag: "cluster",
        parameters: [path("addr", "ip:port, URL-encoded")],
        body: obj({ key: str, value: str }, ["key", "value"]),
      }),
    },
    "/api/topics": {
      get: op("A page of topics with queues, stored messages and put rate", page("TopicSummary"), {
        tag: "topics",
        parameters: [
          query("filter", str, "substring of the name"),
          query("kind", str, "comma-separated: normal, retry, dlq, system (default normal)"),
          ...pageParams,
        ],
      }),
      post: op(
        "Create or update a topic on every master of a cluster, or on one broker",
        obj({
          topic: str,
          brokers: arr(str),
        }),
        {
          tag: "topics",
          status: "201",
          body: obj({
            topic: str,
            clusterName: str,
            brokerAddr: str,
            readQueueNums: int,
            writeQueueNums: int,
            perm: int,
            order: bool,
          }, ["topic"]),
        },
      ),
    },
    "/api/topics/{topic}": {
      delete: op("Delete a topic from its brokers and the NameServers", obj({ topic: str, brokers: arr(str) }), {
        tag: "topics",
        parameters: [path("topic", "topic name"), query("clusterName", str, "only this cluster")],
      }),
    },
    "/api/topics/{topic}/route": {
      get: op("The topic's route", obj({ queueDatas: arr(map({})), brokerDatas: arr(map({})) }), {
        tag: "topics",
        parameters: [path("topic", "topic name")],
      }),
    },
    "/api/topics/{topic}/stats": {
      get: op("Min and max offsets and last store time per queue", arr(ref("QueueOffsets")), {
        tag: "topics",
        parameters: [path("topic", "topic name")],
      }),
    },
    "/api/topics/{topic}/consumers": {
      get: op("Groups consuming the topic", arr(str), { tag: "topics", parameters: [path("topic", "topic name")] }),
    },
    "/api/topics/{topic}/messages": {
      get: op("Messages of one queue from an offset", ref("Pulled"), {
        tag: "messages",
        parameters: [
          path("topic", "topic name"),
          query("brokerName", str, "default: the route's first broker"),
          query("queueId", int, "default 0"),
          query("offset", int, "default 0"),
          query("max", int, "1-32, default 20"),
        ],
      }),
    },
    "/api/groups": {
      get: op("A page of consumer groups with clients, rate and lag", page("GroupSummary"), {
        tag: "groups",
        parameters: [
          query("filter", str, "substring of the name"),
          query("system", bool, "include RocketMQ's own groups"),
          ...pageParams,
        ],
      }),
    },
    "/api/groups/{group}/progress": {
      get: op("Per-queue offsets and lag in messages and seconds", ref("ConsumerProgress"), {
        tag: "groups",
        parameters: [path("group", "consumer group"), query("topic", str, "only this topic")],
      }),
    },
    "/api/groups/{group}/connections": {
      get: op("The group's clients (paged) and subscriptions", ref("ConsumerConnection"), {
        tag: "groups",
        parameters: [path("group", "consumer group"), query("page", int, "1-based"), query("pageSize", int, "1-500")],
      }),
    },
    "/api/groups/{group}/reset-offset": {
      post: op(
        "Reset the group's offsets on a topic to a time",
        obj({
          group: str,
          topic: str,
          timestamp: int,
          queues: arr(obj({ topic: str, brokerName: str, queueId: int, offset: int })),
        }),
        {
          tag: "groups",
          parameters: [path("group", "consumer group")],
          body: obj({
            topic: str,
            timestamp: { description: "epoch ms, now, yyyy-MM-dd#HH:mm:ss:SSS or ISO 8601" },
            force: bool,
          }, ["topic", "timestamp"]),
        },
      ),
    },
    "/api/groups/{group}/dlq": {
      get: op("Browse the group's dead-letter queue", ref("DlqPage"), {
        tag: "dlq",
        parameters: [
          path("group", "consumer group"),
          query("brokerName", str, "one broker's queue"),
          query("offset", int, "first queue offset"),
          query("max", int, "messages per queue, 1-32"),
        ],
      }),
    },
    "/api/groups/{group}/dlq/resend": {
      post: op("Resend one dead letter to the group's retry topic (rate-limited, audited)", ref("DlqOutcome"), {
        tag: "dlq",
        parameters: [path("group", "consumer group")],
        body: obj({ msgId: str }, ["msgId"]),
      }),
    },
    "/api/groups/{group}/dlq/redrive": {
      post: op("Start redriving every dead letter at a rate (a job; audited)", ref("RedriveJob"), {
        tag: "dlq",
        status: "202",
        parameters: [path("group", "consumer group")],
        body: obj({ rate: num, max: int }),
      }),
    },
    "/api/dlq/jobs": { get: op("Redrive jobs, newest first", arr(ref("RedriveJob")), { tag: "dlq" }) },
    "/api/dlq/jobs/{id}": {
      get: op("A redrive job with its latest outcomes", ref("RedriveJob"), {
        tag: "dlq",
        parameters: [path("id", "job id")],
      }),
    },
    "/api/dlq/jobs/{id}/stop": {
      post: op("Stop a redrive job", ref("RedriveJob"), { tag: "dlq", parameters: [path("id", "job id")] }),
    },
    "/api/messages/by-key": {
      get: op("Messages with a key", arr(ref("Message")), {
        tag: "messages",
        parameters: [
          query("topic", str, "topic", true),
          query("key", str, "message key", true),
          query("max", int, "1-64"),
        ],
      }),
    },
    "/api/messages/by-id/{msgId}": {
      get: op("A message by offsetMsgId, or by client id with the topic", ref("Message"), {
        tag: "messages",
        parameters: [path("msgId", "offsetMsgId or client id"), query("topic", str, "needed for a client id")],
      }),
    },
    "/api/messages/by-offset": {
      get: op("The message at a queue offset", ref("Message"), {
        tag: "messages",
        parameters: [
          query("topic", str, "topic", true),
          query("brokerName", str, "broker name", true),
          query("queueId", int, "queue id", true),
          query("offset", int, "queue offset", true),
        ],
      }),
    },
    "/api/audit": {
      get: op("Recent audited actions, newest first", arr(ref("AuditEntry")), {
        tag: "audit",
        parameters: [query("limit", int, "1-1000, default 100")],
      }),
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: `denomq HTTP admin (${role})`,
      version: "1.0.0",
      description: "Administration of a denomq (RocketMQ 4.x protocol) cluster. Errors are `{ code, name, message }`.",
    },
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "The token given by DENOMQ_HTTP_TOKEN or --http-token-file",
        },
        session: { type: "apiKey", in: "cookie", name: "denomq_session" },
      },
      responses: {
        Error: { description: "An error", content: { "application/json": { schema: ref("Error") } } },
      },
      schemas: SCHEMAS,
    },
    paths,
  };
}

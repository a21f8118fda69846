// denomq dashboard: a single page over the HTTP admin API, no build step, no CDN.
// Every page fetches one bounded page of data; auto-refresh re-fetches it every few seconds
// unless a form field has focus. Text is always set with textContent, never parsed as HTML.

const REFRESH_MS = 5000;
const JOB_POLL_MS = 1000;

const main = document.getElementById("main");
const toast = document.getElementById("toast");
let session = { authRequired: false, authenticated: true, role: "" };
let refreshTimer = 0;
let renderSeq = 0;

// ---- helpers ----

class ApiError extends Error {
  constructor(body, status) {
    super(body?.message ?? `HTTP ${status}`);
    this.code = body?.code ?? status;
    this.errorName = body?.name ?? "Error";
  }
}

async function api(path, options = {}) {
  const init = { credentials: "same-origin", headers: {}, ...options };
  if (options.json !== undefined) {
    init.method = options.method ?? "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    if (response.status === 401 && session.authRequired && session.authenticated) {
      session.authenticated = false;
      route();
    }
    throw new ApiError(body, response.status);
  }
  return body;
}

/** Builds an element: h("td", { class: "num" }, "text", child…). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function fmtNum(n) {
  return typeof n === "number" ? n.toLocaleString("en-US", { maximumFractionDigits: 2 }) : "-";
}

function fmtTime(ms) {
  if (!ms || ms <= 0) return "-";
  const d = new Date(ms);
  const p = (x) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${
    p(d.getSeconds())
  }`;
}

function fmtSeconds(s) {
  if (!s) return "0";
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function table(name, headers, rows, numeric = []) {
  return h(
    "table",
    { "data-table": name },
    h("thead", {}, h("tr", {}, headers.map((t, i) => h("th", { class: numeric.includes(i) ? "num" : undefined }, t)))),
    h("tbody", {}, rows),
  );
}

function cell(value, numeric = false, cls = "") {
  return h("td", { class: [numeric ? "num" : "", cls].join(" ").trim() || undefined }, value);
}

function link(href, text) {
  return h("a", { href }, text);
}

function stat(label, value, name) {
  return h(
    "div",
    { class: "stat", "data-stat": name },
    h("div", { class: "value" }, value),
    h("div", { class: "label" }, label),
  );
}

function showToast(message, bad = false) {
  toast.textContent = message;
  toast.className = bad ? "toast bad" : "toast";
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => toast.className = "toast hidden", 4000);
}

function errorBox(error) {
  return h(
    "p",
    { class: "error", "data-error": error.errorName ?? "Error" },
    `${error.errorName ?? "Error"}: ${error.message}`,
  );
}

function hashQuery() {
  const [, query = ""] = location.hash.split("?");
  return new URLSearchParams(query);
}

function setHash(path, params) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "" && v !== null) query.set(k, String(v));
  const text = query.toString();
  location.hash = text ? `${path}?${text}` : path;
}

function pager(page, onPage) {
  const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
  return h(
    "div",
    { class: "pager" },
    h("button", { class: "secondary", disabled: page.page <= 1, onclick: () => onPage(page.page - 1) }, "‹ Prev"),
    h("span", { class: "muted" }, `Page ${page.page} of ${pages} · ${fmtNum(page.total)} total`),
    h("button", { class: "secondary", disabled: page.page >= pages, onclick: () => onPage(page.page + 1) }, "Next ›"),
  );
}

// ---- pages ----

async function clusterPage() {
  const data = await api("/api/cluster");
  const brokers = data.brokers;
  const sum = (f) => brokers.reduce((n, b) => n + (b[f] ?? 0), 0);
  return [
    h("h1", {}, "Cluster"),
    h(
      "div",
      { class: "stats" },
      stat("Brokers", fmtNum(brokers.length), "brokers"),
      stat("Put / s", fmtNum(sum("putTps")), "putTps"),
      stat("Get / s", fmtNum(sum("getTps")), "getTps"),
      stat("Messages put today", fmtNum(sum("msgPutTotalTodayNow")), "putToday"),
    ),
    table(
      "brokers",
      ["Cluster", "Broker", "ID", "Address", "Version", "Put/s", "Get/s", "Put today", "Get today", "Disk", "Uptime"],
      brokers.map((b) =>
        h(
          "tr",
          { "data-broker": b.brokerName },
          cell(b.cluster),
          cell(b.brokerName),
          cell(b.brokerId, true),
          cell(b.addr),
          cell(b.error ? h("span", { class: "error" }, b.error) : b.version),
          cell(fmtNum(b.putTps), true),
          cell(fmtNum(b.getTps), true),
          cell(fmtNum(b.msgPutTotalTodayNow), true),
          cell(fmtNum(b.msgGetTotalTodayNow), true),
          cell(b.commitLogDiskRatio >= 0 ? `${Math.round(b.commitLogDiskRatio * 100)}%` : "-", true),
          cell(b.runtime),
        )
      ),
      [2, 5, 6, 7, 8, 9],
    ),
  ];
}

async function topicsPage() {
  const q = hashQuery();
  const filter = q.get("filter") ?? "";
  const kind = q.get("kind") ?? "normal";
  const page = Number(q.get("page") ?? 1);
  const data = await api(
    `/api/topics?${new URLSearchParams({ filter, kind, page: String(page), pageSize: "20" })}`,
  );
  const search = h("input", { id: "topic-filter", placeholder: "Filter topics", value: filter });
  const kinds = h(
    "select",
    { id: "topic-kind" },
    ["normal", "retry", "dlq", "system", "normal,retry,dlq,system"].map((k) =>
      h("option", { value: k, selected: k === kind }, k.includes(",") ? "all" : k)
    ),
  );
  const apply = () => setHash("#/topics", { filter: search.value, kind: kinds.value, page: 1 });
  search.addEventListener("keydown", (e) => e.key === "Enter" && apply());
  kinds.addEventListener("change", apply);
  return [
    h("h1", {}, "Topics"),
    h("div", { class: "toolbar" }, search, kinds, h("button", { onclick: apply }, "Search"), createTopicForm()),
    table(
      "topics",
      ["Topic", "Kind", "Brokers", "Queues (r/w)", "Messages", "Max offset total", "Put/s", "Last message"],
      data.items.map((t) =>
        h(
          "tr",
          { "data-topic": t.topic },
          cell(link(`#/topic/${encodeURIComponent(t.topic)}`, t.topic)),
          cell(h("span", { class: "badge" }, t.kind)),
          cell(t.brokers.join(", ")),
          cell(`${t.readQueueNums}/${t.writeQueueNums}`, true),
          cell(fmtNum(t.messages), true, "messages"),
          cell(fmtNum(t.maxOffsetTotal), true),
          cell(fmtNum(t.putTps), true),
          cell(t.error ? h("span", { class: "error" }, t.error) : fmtTime(t.lastUpdateTimestamp)),
        )
      ),
      [3, 4, 5, 6],
    ),
    pager(data, (p) => setHash("#/topics", { filter, kind, page: p })),
  ];
}

function createTopicForm() {
  const name = h("input", { id: "new-topic", placeholder: "New topic name" });
  const queues = h("input", { id: "new-topic-queues", type: "number", min: "1", max: "1024", value: "8" });
  return h(
    "span",
    { class: "toolbar" },
    name,
    queues,
    h("button", {
      class: "secondary",
      onclick: async () => {
        try {
          const n = Number(queues.value);
          const result = await api("/api/topics", { json: { topic: name.value, readQueueNums: n, writeQueueNums: n } });
          showToast(`Created ${result.topic} on ${result.brokers.join(", ")}`);
          route();
        } catch (error) {
          showToast(error.message, true);
        }
      },
    }, "Create topic"),
  );
}

async function topicPage(topic) {
  const [stats, consumers] = await Promise.all([
    api(`/api/topics/${encodeURIComponent(topic)}/stats`),
    api(`/api/topics/${encodeURIComponent(topic)}/consumers`).catch(() => []),
  ]);
  const total = stats.reduce((n, q) => n + q.maxOffset - q.minOffset, 0);
  return [
    h("h1", {}, `Topic ${topic}`),
    h(
      "div",
      { class: "stats" },
      stat("Queues", fmtNum(stats.length), "queues"),
      stat("Messages stored", fmtNum(total), "stored"),
    ),
    h("h2", {}, "Queues"),
    table(
      "queues",
      ["Broker", "Queue", "Min offset", "Max offset", "Last message", ""],
      stats.map((q) =>
        h(
          "tr",
          { "data-queue": `${q.brokerName}/${q.queueId}` },
          cell(q.brokerName),
          cell(q.queueId, true),
          cell(fmtNum(q.minOffset), true),
          cell(fmtNum(q.maxOffset), true),
          cell(fmtTime(q.lastUpdateTimestamp)),
          cell(
            q.maxOffset > q.minOffset
              ? link(
                `#/messages?${new URLSearchParams({
                  topic,
                  broker: q.brokerName,
                  queue: String(q.queueId),
                  offset: String(Math.max(q.minOffset, q.maxOffset - 20)),
                })}`,
                "browse",
              )
              : "",
          ),
        )
      ),
      [1, 2, 3],
    ),
    h("h2", {}, "Consumer groups"),
    consumers.length
      ? h("ul", {}, consumers.map((g) => h("li", {}, link(`#/group/${encodeURIComponent(g)}`, g))))
      : h("p", { class: "muted" }, "No group consumes this topic."),
  ];
}

async function groupsPage() {
  const q = hashQuery();
  const filter = q.get("filter") ?? "";
  const system = q.get("system") === "true";
  const page = Number(q.get("page") ?? 1);
  const data = await api(
    `/api/groups?${new URLSearchParams({ filter, system: String(system), page: String(page), pageSize: "20" })}`,
  );
  const search = h("input", { id: "group-filter", placeholder: "Filter groups", value: filter });
  const sys = h("input", { type: "checkbox", id: "group-system", checked: system });
  const apply = () => setHash("#/groups", { filter: search.value, system: sys.checked || undefined, page: 1 });
  search.addEventListener("keydown", (e) => e.key === "Enter" && apply());
  sys.addEventListener("change", apply);
  return [
    h("h1", {}, "Consumer groups"),
    h(
      "div",
      { class: "toolbar" },
      search,
      h("label", {}, sys, " system groups"),
      h("button", { onclick: apply }, "Search"),
    ),
    table(
      "groups",
      ["Group", "Clients", "Type", "Model", "Consume/s", "Lag (messages)", "Max lag", "Retries", ""],
      data.items.map((g) =>
        h(
          "tr",
          { "data-group": g.group, class: g.lag > 0 ? "lagging" : undefined },
          cell(link(`#/group/${encodeURIComponent(g.group)}`, g.group)),
          cell(
            g.online ? h("span", { class: "badge ok" }, g.online) : h("span", { class: "badge bad" }, "offline"),
            true,
          ),
          cell(g.consumeType || "-"),
          cell(g.messageModel || "-"),
          cell(fmtNum(g.consumeTps), true),
          cell(fmtNum(g.lag), true, "lag"),
          cell(fmtSeconds(g.lagSecondsMax), true, "lag-seconds"),
          cell(g.retryMaxTimes, true),
          cell(link(`#/dlq/${encodeURIComponent(g.group)}`, "DLQ")),
        )
      ),
      [1, 4, 5, 6, 7],
    ),
    pager(data, (p) => setHash("#/groups", { filter, system: system || undefined, page: p })),
  ];
}

async function groupPage(group) {
  const enc = encodeURIComponent(group);
  const [progress, connection] = await Promise.all([
    api(`/api/groups/${enc}/progress`).catch((error) => ({ error })),
    api(`/api/groups/${enc}/connections?pageSize=50`).catch((error) => ({ error })),
  ]);
  const parts = [h("h1", {}, `Consumer group ${group}`)];
  if (progress.error) {
    parts.push(errorBox(progress.error));
  } else {
    parts.push(
      h(
        "div",
        { class: "stats" },
        stat("Lag (messages)", fmtNum(progress.lag), "lag"),
        stat("Max lag", fmtSeconds(progress.lagSecondsMax), "lagSeconds"),
        stat("Consume / s", fmtNum(progress.consumeTps), "tps"),
        stat("Clients", connection.error ? "0" : fmtNum(connection.total), "clients"),
      ),
      h("h2", {}, "Progress per queue"),
      table(
        "progress",
        [
          "Topic",
          "Broker",
          "Queue",
          "Broker offset",
          "Consumer offset",
          "Lag (messages)",
          "Lag (seconds)",
          "Last consumed",
        ],
        progress.queues.map((q) =>
          h(
            "tr",
            { "data-queue": `${q.topic}/${q.brokerName}/${q.queueId}`, class: q.lag > 0 ? "lagging" : undefined },
            cell(q.topic),
            cell(q.brokerName),
            cell(q.queueId, true),
            cell(fmtNum(q.brokerOffset), true),
            cell(fmtNum(q.consumerOffset), true),
            cell(fmtNum(q.lag), true, "lag"),
            cell(fmtNum(q.lagSeconds), true, "lag-seconds"),
            cell(fmtTime(q.lastTimestamp)),
          )
        ),
        [2, 3, 4, 5, 6],
      ),
      resetForm(group, [...new Set(progress.queues.map((q) => q.topic))]),
    );
  }
  parts.push(h("h2", {}, "Clients"));
  if (connection.error) {
    parts.push(h("p", { class: "muted" }, connection.error.message));
  } else {
    parts.push(
      table(
        "clients",
        ["Client id", "Address", "Language", "Version"],
        connection.connections.map((c) =>
          h("tr", {}, cell(c.clientId), cell(c.clientAddr), cell(c.language), cell(c.version, true))
        ),
        [3],
      ),
      connection.total > connection.connections.length
        ? h("p", { class: "muted" }, `Showing ${connection.connections.length} of ${connection.total} clients.`)
        : "",
      h(
        "p",
        { class: "muted" },
        `${connection.consumeType} · ${connection.messageModel} · ${connection.consumeFromWhere} · subscriptions: ${
          connection.subscriptions.map((s) => `${s.topic} (${s.subString})`).join(", ")
        }`,
      ),
    );
  }
  parts.push(h("p", {}, link(`#/dlq/${enc}`, "Dead-letter queue of this group →")));
  return parts;
}

function resetForm(group, topics) {
  if (!topics.length) return "";
  const topic = h("select", { id: "reset-topic" }, topics.map((t) => h("option", { value: t }, t)));
  const when = h("input", { id: "reset-time", placeholder: "now, epoch ms or ISO time", value: "now" });
  return h(
    "div",
    { class: "card" },
    h("strong", {}, "Reset offsets to a time "),
    topic,
    " ",
    when,
    " ",
    h("button", {
      class: "danger",
      onclick: async () => {
        if (!confirm(`Reset ${group} on ${topic.value} to ${when.value}?`)) return;
        try {
          const r = await api(`/api/groups/${encodeURIComponent(group)}/reset-offset`, {
            json: { topic: topic.value, timestamp: /^\d+$/.test(when.value) ? Number(when.value) : when.value },
          });
          showToast(`Reset ${r.queues.length} queue(s)`);
          route();
        } catch (error) {
          showToast(error.message, true);
        }
      },
    }, "Reset"),
  );
}

function messageRows(messages) {
  return messages.map((m) =>
    h(
      "tr",
      { "data-msg": m.msgId },
      cell(link(`#/message/${encodeURIComponent(m.offsetMsgId)}`, m.msgId)),
      cell(m.topic),
      cell(`${m.brokerName}/${m.queueId}`),
      cell(m.queueOffset, true),
      cell(m.keys || "-"),
      cell(m.tags || "-"),
      cell(fmtTime(m.storeTimestamp)),
      h("td", { class: "body" }, m.body.length > 120 ? `${m.body.slice(0, 119)}…` : m.body),
    )
  );
}

const MESSAGE_HEADERS = ["Message id", "Topic", "Queue", "Offset", "Keys", "Tags", "Stored", "Body"];

async function messagesPage() {
  const q = hashQuery();
  const topic = h("input", { id: "msg-topic", placeholder: "Topic", value: q.get("topic") ?? "" });
  const key = h("input", { id: "msg-key", placeholder: "Key", value: q.get("key") ?? "" });
  const msgId = h("input", { id: "msg-id", placeholder: "Message id or offset id", value: q.get("id") ?? "" });
  const broker = h("input", { id: "msg-broker", placeholder: "Broker", value: q.get("broker") ?? "" });
  const queue = h("input", { id: "msg-queue", type: "number", placeholder: "Queue", value: q.get("queue") ?? "0" });
  const offset = h("input", { id: "msg-offset", type: "number", placeholder: "Offset", value: q.get("offset") ?? "0" });
  const parts = [
    h("h1", {}, "Messages"),
    h(
      "div",
      { class: "card" },
      h(
        "div",
        { class: "toolbar" },
        topic,
        key,
        h("button", {
          id: "search-key",
          onclick: () => setHash("#/messages", { topic: topic.value, key: key.value }),
        }, "Search by key"),
      ),
      h(
        "div",
        { class: "toolbar" },
        msgId,
        h("button", {
          id: "search-id",
          onclick: () => setHash("#/messages", { topic: topic.value, id: msgId.value }),
        }, "Find by id"),
      ),
      h(
        "div",
        { class: "toolbar" },
        broker,
        queue,
        offset,
        h("button", {
          id: "browse",
          onclick: () =>
            setHash("#/messages", {
              topic: topic.value,
              broker: broker.value,
              queue: queue.value,
              offset: offset.value,
            }),
        }, "Browse queue"),
      ),
    ),
  ];
  const t = q.get("topic");
  if (q.get("key") && t) {
    const found = await api(`/api/messages/by-key?${new URLSearchParams({ topic: t, key: q.get("key") })}`)
      .catch((error) => ({ error }));
    parts.push(found.error ? errorBox(found.error) : table("messages", MESSAGE_HEADERS, messageRows(found), [3]));
  } else if (q.get("id")) {
    const params = t ? `?${new URLSearchParams({ topic: t })}` : "";
    const found = await api(`/api/messages/by-id/${encodeURIComponent(q.get("id"))}${params}`).catch((error) => ({
      error,
    }));
    parts.push(found.error ? errorBox(found.error) : messageDetail(found));
  } else if (t && q.get("offset") !== null) {
    const params = new URLSearchParams({ queueId: q.get("queue") ?? "0", offset: q.get("offset"), max: "20" });
    if (q.get("broker")) params.set("brokerName", q.get("broker"));
    const found = await api(`/api/topics/${encodeURIComponent(t)}/messages?${params}`).catch((error) => ({ error }));
    if (found.error) parts.push(errorBox(found.error));
    else {
      parts.push(
        h("p", { class: "muted" }, `${found.status}: offsets ${found.minOffset}–${found.maxOffset - 1} in this queue`),
        table("messages", MESSAGE_HEADERS, messageRows(found.messages), [3]),
      );
    }
  }
  return parts;
}

function messageDetail(m) {
  const fields = [
    ["Message id", m.msgId],
    ["Offset id", m.offsetMsgId],
    ["Topic", m.topic],
    ["Broker / queue / offset", `${m.brokerName} / ${m.queueId} / ${m.queueOffset}`],
    ["Keys", m.keys || "-"],
    ["Tags", m.tags || "-"],
    ["Born", `${fmtTime(m.bornTimestamp)} from ${m.bornHost}`],
    ["Stored", `${fmtTime(m.storeTimestamp)} on ${m.storeHost}`],
    ["Reconsume times", m.reconsumeTimes],
    ["Body size", `${fmtNum(m.bodySize)} bytes${m.bodyEncoding === "base64" ? " (binary, shown as base64)" : ""}`],
    ...Object.entries(m.properties).map(([k, v]) => [`Property ${k}`, v]),
  ];
  return h(
    "div",
    { class: "card", "data-message": m.msgId },
    h("dl", { class: "kv" }, fields.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    h("pre", { class: "body" }, m.body),
  );
}

async function messagePage(id) {
  const q = hashQuery();
  const params = q.get("topic") ? `?${new URLSearchParams({ topic: q.get("topic") })}` : "";
  const m = await api(`/api/messages/by-id/${encodeURIComponent(id)}${params}`);
  return [h("h1", {}, "Message"), messageDetail(m)];
}

let watchedJob = undefined;

async function dlqPage(group) {
  const enc = encodeURIComponent(group);
  const q = hashQuery();
  const params = new URLSearchParams({ max: "20" });
  if (q.get("offset")) params.set("offset", q.get("offset"));
  if (q.get("broker")) params.set("brokerName", q.get("broker"));
  const parts = [h("h1", {}, `Dead letters of ${group}`)];
  let page;
  try {
    page = await api(`/api/groups/${enc}/dlq?${params}`);
  } catch (error) {
    parts.push(errorBox(error));
    return parts;
  }
  const rate = h("input", { id: "redrive-rate", type: "number", min: "0.1", max: "1000", step: "any", value: "10" });
  const max = h("input", { id: "redrive-max", type: "number", min: "1", max: "100000", value: "1000" });
  const jobBox = h("div", { id: "redrive-job" });
  parts.push(
    h("div", { class: "stats" }, stat("Dead letters stored", fmtNum(page.total), "dlqTotal")),
    h(
      "div",
      { class: "card" },
      h("strong", {}, "Redrive all to the retry topic "),
      "rate/s ",
      rate,
      " at most ",
      max,
      " ",
      h("button", {
        id: "redrive",
        class: "danger",
        onclick: async () => {
          if (!confirm(`Resend up to ${max.value} dead letters of ${group} at ${rate.value}/s?`)) return;
          try {
            const job = await api(`/api/groups/${enc}/dlq/redrive`, {
              json: { rate: Number(rate.value), max: Number(max.value) },
            });
            watchJob(job.id, jobBox);
          } catch (error) {
            showToast(error.message, true);
          }
        },
      }, "Redrive all"),
      jobBox,
    ),
  );
  if (watchedJob) watchJob(watchedJob, jobBox);
  for (const queue of page.queues) {
    parts.push(
      h(
        "h2",
        {},
        `${queue.brokerName} queue ${queue.queueId}: offsets ${queue.minOffset}–${queue.maxOffset - 1}`,
        queue.redriveOffset >= 0 ? ` (redriven up to ${queue.redriveOffset})` : "",
      ),
      table(
        "dlq",
        ["Offset", "Message id", "Original topic", "Keys", "Tags", "Stored", "Body", ""],
        queue.messages.map((m) =>
          h(
            "tr",
            { "data-msg": m.msgId },
            cell(m.queueOffset, true),
            cell(link(`#/message/${encodeURIComponent(m.offsetMsgId)}`, m.msgId)),
            cell(m.properties.RETRY_TOPIC ?? "-"),
            cell(m.keys || "-"),
            cell(m.tags || "-"),
            cell(fmtTime(m.storeTimestamp)),
            h("td", { class: "body" }, m.body.length > 80 ? `${m.body.slice(0, 79)}…` : m.body),
            h(
              "td",
              {},
              h("button", {
                class: "secondary",
                "data-resend": m.msgId,
                onclick: async (event) => {
                  event.target.disabled = true;
                  try {
                    const outcome = await api(`/api/groups/${enc}/dlq/resend`, { json: { msgId: m.msgId } });
                    showToast(`${outcome.outcome}: ${outcome.msgId} ${outcome.detail}`, outcome.outcome !== "resent");
                    event.target.textContent = outcome.outcome;
                  } catch (error) {
                    showToast(error.message, true);
                    event.target.disabled = false;
                  }
                },
              }, "Resend"),
            ),
          )
        ),
        [0],
      ),
      queue.nextOffset < queue.maxOffset
        ? h(
          "p",
          {},
          link(
            `#/dlq/${enc}?${new URLSearchParams({ broker: queue.brokerName, offset: String(queue.nextOffset) })}`,
            "Next page ›",
          ),
        )
        : "",
    );
  }
  return parts;
}

function watchJob(id, box) {
  watchedJob = id;
  const poll = async () => {
    if (!box.isConnected) return;
    try {
      const job = await api(`/api/dlq/jobs/${id}`);
      box.replaceChildren(
        h(
          "p",
          { "data-job-state": job.state },
          `Job ${job.id}: ${job.state} · ${job.resent} resent · ${job.failed} failed`,
          job.error ? ` · ${job.error}` : "",
          job.state === "running"
            ? h("button", { class: "secondary", onclick: () => api(`/api/dlq/jobs/${id}/stop`, { json: {} }) }, "Stop")
            : "",
        ),
        h(
          "ul",
          { class: "outcomes" },
          job.outcomes.slice(-50).map((o) => h("li", {}, `${o.outcome} ${o.msgId}: ${o.detail}`)),
        ),
      );
      if (job.state === "running") setTimeout(poll, JOB_POLL_MS);
      else watchedJob = undefined;
    } catch (error) {
      box.replaceChildren(errorBox(error));
    }
  };
  poll();
}

async function auditPage() {
  const entries = await api("/api/audit?limit=200");
  return [
    h("h1", {}, "Audit log"),
    table(
      "audit",
      ["Time", "Who", "Action", "Target", "Outcome", "Detail"],
      entries.map((e) =>
        h(
          "tr",
          {},
          cell(e.at),
          cell(e.actor),
          cell(e.action),
          cell(e.target),
          cell(e.outcome),
          h("td", { class: "body" }, e.detail ? JSON.stringify(e.detail) : ""),
        )
      ),
    ),
  ];
}

function loginPage() {
  const token = h("input", { id: "login-token", type: "password", placeholder: "Admin token", autocomplete: "off" });
  const message = h("p", { class: "error" });
  const submit = async () => {
    try {
      await api("/api/login", { json: { token: token.value } });
      session.authenticated = true;
      location.hash = "#/cluster";
      route();
    } catch (error) {
      message.textContent = error.message;
    }
  };
  token.addEventListener("keydown", (e) => e.key === "Enter" && submit());
  return [
    h(
      "div",
      { class: "card login" },
      h("h1", {}, "Log in"),
      h("p", { class: "muted" }, "This dashboard is not bound to loopback: enter the admin token."),
      token,
      h("button", { id: "login", onclick: submit }, "Log in"),
      message,
    ),
  ];
}

// ---- routing ----

const ROUTES = [
  [/^#\/cluster$/, () => clusterPage(), "cluster"],
  [/^#\/topics$/, () => topicsPage(), "topics"],
  [/^#\/topic\/(.+)$/, (m) => topicPage(decodeURIComponent(m[1])), "topics"],
  [/^#\/groups$/, () => groupsPage(), "groups"],
  [/^#\/group\/(.+)$/, (m) => groupPage(decodeURIComponent(m[1])), "groups"],
  [/^#\/dlq\/(.+)$/, (m) => dlqPage(decodeURIComponent(m[1])), "groups"],
  [/^#\/messages$/, () => messagesPage(), "messages"],
  [/^#\/message\/(.+)$/, (m) => messagePage(decodeURIComponent(m[1])), "messages"],
  [/^#\/audit$/, () => auditPage(), "audit"],
];

async function route({ refresh = false } = {}) {
  const seq = ++renderSeq;
  if (session.authRequired && !session.authenticated) {
    main.replaceChildren(...loginPage());
    document.getElementById("login-token")?.focus();
    return;
  }
  const path = location.hash.split("?")[0] || "#/cluster";
  const found = ROUTES.find(([re]) => re.test(path));
  if (!found) {
    location.hash = "#/cluster";
    return;
  }
  const [re, render, nav] = found;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === nav);
  try {
    const content = await render(path.match(re));
    if (seq !== renderSeq) return; // a newer render started meanwhile
    main.replaceChildren(...content);
    main.dataset.page = nav;
    main.dataset.loaded = String(Date.now());
  } catch (error) {
    if (seq !== renderSeq) return;
    if (!refresh || !main.childElementCount) main.replaceChildren(h("h1", {}, "Error"), errorBox(error));
  }
}

function scheduleRefresh() {
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => {
    const box = document.getElementById("auto-refresh");
    const typing = document.activeElement && ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
    if (box?.checked && !typing && !document.hidden) route({ refresh: true });
  }, REFRESH_MS);
}

async function start() {
  try {
    session = await api("/api/session");
  } catch (error) {
    main.replaceChildren(errorBox(error));
    return;
  }
  document.getElementById("role").textContent = session.role;
  const logout = document.getElementById("logout");
  if (session.authRequired) {
    logout.classList.remove("hidden");
    logout.addEventListener("click", async () => {
      await api("/api/logout", { json: {} });
      session.authenticated = false;
      route();
    });
  }
  if (!location.hash) location.hash = "#/cluster";
  globalThis.addEventListener("hashchange", () => route());
  await route();
  scheduleRefresh();
}

start();

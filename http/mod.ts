/**
 * The HTTP admin shared by the NameServer and the broker: the Hono app (`createAdminApp`), auth,
 * the OpenAPI document, Prometheus text, the dashboard's files and the server.
 *
 * @module
 */

export * from "./app.ts";
export * from "./auth.ts";
export * from "./errors.ts";
export * from "./jobs.ts";
export * from "./openapi.ts";
export * from "./prometheus.ts";
export * from "./server.ts";

/**
 * The dashboard's files, imported as text so they are part of the module graph: served without
 * read permission, and embedded by `deno compile` with the rest of the code (no build step).
 *
 * @module
 */

import appCss from "./dashboard/app.css" with { type: "text" };
import appJs from "./dashboard/app.js" with { type: "text" };
import indexHtml from "./dashboard/index.html" with { type: "text" };

/** A static file. */
export interface StaticFile {
  type: string;
  body: string;
}

/** URL path → file. */
export const DASHBOARD_FILES: ReadonlyMap<string, StaticFile> = new Map([
  ["/", { type: "text/html; charset=utf-8", body: indexHtml }],
  ["/dashboard/app.js", { type: "text/javascript; charset=utf-8", body: appJs }],
  ["/dashboard/app.css", { type: "text/css; charset=utf-8", body: appCss }],
]);

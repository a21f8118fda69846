/**
 * The flush Worker's entry point: runs {@linkcode FlushCore} rounds with the synchronous file API,
 * one message at a time, in arrival order.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { fsFromPlan } from "./_fs.ts";
import { FlushCore, type FlushWorkerReply, type FlushWorkerRequest } from "./flush.ts";

let core: FlushCore | undefined;

self.onmessage = (event: MessageEvent<FlushWorkerRequest>) => {
  const message = event.data;
  switch (message.type) {
    case "init":
      core = new FlushCore(fsFromPlan(message.faultPlan));
      return;
    case "flush": {
      const result = core!.run(message.request);
      self.postMessage({ type: "flushed", id: message.id, result } satisfies FlushWorkerReply);
      return;
    }
    case "close":
      core!.close(message.path);
      return;
    case "stop":
      core?.closeAll();
      self.postMessage({ type: "stopped", id: message.id } satisfies FlushWorkerReply);
      self.close();
      return;
  }
};

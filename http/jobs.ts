/**
 * DLQ redrives started over HTTP run as jobs: the request answers 202 with the job at once, the
 * dashboard polls `GET /api/dlq/jobs/:id` for each outcome, and `POST …/stop` aborts it. At most
 * {@linkcode RUNNING_JOBS_MAX} run at once and one per group; finished jobs are kept for a while.
 *
 * @module
 */

import type { DlqOutcome, RedriveReport } from "../ops/dlq.ts";
import { ConflictError, NotFoundError } from "../ops/errors.ts";

/** Redrives running at once, over all groups. */
export const RUNNING_JOBS_MAX = 2;
/** Finished jobs kept for the dashboard. */
export const FINISHED_JOBS_KEPT = 20;
/** Outcomes a job keeps (the newest); the audit log has every one. */
export const JOB_OUTCOMES_KEPT = 200;

/** A redrive job as reported. */
export interface RedriveJob {
  id: string;
  group: string;
  state: "running" | "done" | "failed" | "stopped" | "error";
  startedAt: string;
  finishedAt?: string;
  resent: number;
  failed: number;
  stoppedBy?: string;
  error?: string;
  outcomes: DlqOutcome[];
}

interface Entry {
  job: RedriveJob;
  controller: AbortController;
  done: Promise<void>;
}

/** The job table. */
export class RedriveJobs {
  readonly #jobs = new Map<string, Entry>();
  #next = 1;

  /** Starts a redrive of `group`; `run` gets the abort signal and the outcome callback. */
  start(
    group: string,
    run: (signal: AbortSignal, onOutcome: (o: DlqOutcome) => void) => Promise<RedriveReport>,
  ): RedriveJob {
    const running = [...this.#jobs.values()].filter((e) => e.job.state === "running");
    if (running.some((e) => e.job.group === group)) {
      throw new ConflictError(`A redrive of "${group}" is already running`);
    }
    if (running.length >= RUNNING_JOBS_MAX) {
      throw new ConflictError(`${RUNNING_JOBS_MAX} redrives are already running: wait for one to finish`);
    }
    const job: RedriveJob = {
      id: String(this.#next++),
      group,
      state: "running",
      startedAt: new Date().toISOString(),
      resent: 0,
      failed: 0,
      outcomes: [],
    };
    const controller = new AbortController();
    const onOutcome = (o: DlqOutcome) => {
      if (o.outcome === "resent") job.resent++;
      else job.failed++;
      job.outcomes.push(o);
      if (job.outcomes.length > JOB_OUTCOMES_KEPT) job.outcomes.shift();
    };
    const done = run(controller.signal, onOutcome).then(
      (report) => {
        job.stoppedBy = report.stoppedBy;
        job.state = report.stoppedBy === "failed" ? "failed" : report.stoppedBy === "aborted" ? "stopped" : "done";
      },
      (error) => {
        job.state = "error";
        job.error = (error as Error).message;
      },
    ).finally(() => {
      job.finishedAt = new Date().toISOString();
      this.#prune();
    });
    this.#jobs.set(job.id, { job, controller, done });
    return structuredClone(job);
  }

  /** @throws {NotFoundError} for an unknown id. */
  get(id: string): RedriveJob {
    const entry = this.#jobs.get(id);
    if (!entry) throw new NotFoundError(`No redrive job "${id}"`);
    return structuredClone(entry.job);
  }

  /** Every job, newest first, without outcomes. */
  list(): Omit<RedriveJob, "outcomes">[] {
    return [...this.#jobs.values()].reverse().map(({ job }) => {
      const { outcomes: _, ...rest } = job;
      return { ...rest };
    });
  }

  /** Aborts a running job; returns it. */
  stop(id: string): RedriveJob {
    const entry = this.#jobs.get(id);
    if (!entry) throw new NotFoundError(`No redrive job "${id}"`);
    entry.controller.abort(new Error("stopped over HTTP"));
    return structuredClone(entry.job);
  }

  /** Aborts every running job and waits for them. */
  async stopAll(): Promise<void> {
    for (const entry of this.#jobs.values()) entry.controller.abort(new Error("shutting down"));
    await Promise.all([...this.#jobs.values()].map((e) => e.done));
  }

  #prune(): void {
    const finished = [...this.#jobs.values()].filter((e) => e.job.state !== "running");
    for (const entry of finished.slice(0, Math.max(0, finished.length - FINISHED_JOBS_KEPT))) {
      this.#jobs.delete(entry.job.id);
    }
  }
}

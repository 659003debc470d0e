import type { Change } from "@flick/shared";
import type { ExecutorName } from "../services/decisions/executor-names.ts";
import { gitPatchExecutor } from "./git-patch.ts";
import { githubExecutor } from "./github.ts";
import type { Executor } from "./types.ts";
import { webhookExecutor } from "./webhook.ts";

export const executors: Record<ExecutorName, Executor<Change>> = {
  "git-patch": gitPatchExecutor as Executor<Change>,
  github: githubExecutor as Executor<Change>,
  webhook: webhookExecutor as Executor<Change>,
};

export { diffPaths, unsafeDiffReason } from "./git-patch.ts";
export { type CardRow, type Executor, type ExecutorContext, ExecutorError } from "./types.ts";
export { renderTemplate } from "./webhook.ts";

import { type ErrorCode, errorStatus, type FieldIssue } from "@flick/shared";

/** The one domain error. Services throw it; the HTTP layer maps `code` to a status. */
export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export const notFound = (what: string) => new AppError("not_found", `${what} not found`);
export const forbidden = (message = "you are not allowed to do this") => new AppError("forbidden", message);
export const conflict = (message: string, details?: unknown) => new AppError("conflict", message, details);

export function validationError(issues: FieldIssue[]): AppError {
  const first = issues[0];
  const message =
    first === undefined
      ? "request is not valid"
      : first.path === ""
        ? first.message
        : `${first.path}: ${first.message}`;
  return new AppError("validation_failed", message, { issues });
}

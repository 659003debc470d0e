import { execFile } from "node:child_process";

/**
 * Runs git without prompts or system config, in the C locale, with a time limit; resolves with
 * stdout as is, rejects with stderr as the message and git's exit code as `exitCode`. With
 * `inheritEnv: false` git (and any hook it runs) sees only PATH, none of the server's secrets.
 */
export function runGit(
  cwd: string,
  args: string[],
  options: { input?: string; inheritEnv?: boolean } = {},
): Promise<string> {
  const base = options.inheritEnv === false ? { PATH: process.env.PATH ?? "" } : process.env;
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args,
      {
        cwd,
        timeout: 60_000,
        maxBuffer: 8 * 1024 * 1024,
        env: { ...base, GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" },
      },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        reject(Object.assign(new Error((stderr || err.message).trim()), { exitCode: err.code }));
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** The headers of every call Flick makes to GitHub's REST API (`accept` differs for a diff). */
export function githubHeaders(token: string, accept = "application/vnd.github+json"): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    accept,
    "x-github-api-version": "2022-11-28",
    "user-agent": "Flick/1",
  };
}

// Maps git's stderr (and how it ended) to a registry code.
import { ErrorCode } from "@atoll/protocol";

const RULES: Array<[RegExp, ErrorCode]> = [
  [/unsupported protocol|unable to find remote helper|transport '[^']*' not allowed|not a valid url|protocol '[^']*' is not supported|unsupported url protocol|no such remote helper/i, ErrorCode.INVALID_GIT_URL],
  [/authentication failed|could not read (username|password)|terminal prompts disabled|http basic: access denied|returned error: 40[13]\b|permission denied \(publickey|invalid username or password|bad credentials/i, ErrorCode.GIT_AUTH_FAILED],
  [/remote branch .* not found|could not find remote branch|couldn't find remote ref|invalid branch name|is not a valid branch name/i, ErrorCode.GIT_BRANCH_NOT_FOUND],
  [/repository .* not found|repository not found|does not appear to be a git repository|returned error: 404\b|repository not exported|no such repository|not found: did you run git update-server-info|could not read from remote repository.*\n?.*does not exist/i, ErrorCode.GIT_REPOSITORY_NOT_FOUND],
  [/could not resolve host|could not resolve hostname|failed to connect|connection refused|connection timed out|timed out|network is unreachable|no route to host|couldn't connect to server|unable to connect|connection reset|operation too slow|early eof|the remote end hung up unexpectedly|ssl_connect|ssl connect error|gnutls|tls connection/i, ErrorCode.GIT_NETWORK_ERROR],
];

export function classifyGitError(stderr: string): ErrorCode {
  for (const [re, code] of RULES) if (re.test(stderr)) return code;
  return ErrorCode.GIT_CLONE_FAILED;
}

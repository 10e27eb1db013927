// The GraphQL-over-HTTP conformance audits of the `graphql-http` package (pinned in
// package.json's devDependencies), run against a live server:
//
//     node .ci/graphql-http-audit.mjs http://127.0.0.1:8000/graphql
//
// Prints one line per audit that did not pass and a summary. Exits with 1 when any
// audit fails with `error` (a MUST of the spec); warnings and notices (SHOULD and MAY)
// are printed but do not fail the run. tests/security/test_graphql_http.py runs it.

import { auditServer } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node .ci/graphql-http-audit.mjs URL");
  process.exit(2);
}

const results = await auditServer({ url });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  if (result.status !== "ok") {
    // The reason names what was expected and what came back; the body shows why.
    let body = "";
    try {
      body = (await result.response.text()).slice(0, 300);
    } catch {
      body = "(body already read)";
    }
    console.log(`${result.status.toUpperCase()} ${result.id} ${result.name}`);
    console.log(`    ${result.reason}`);
    if (body) console.log(`    body: ${body.replaceAll("\n", " ")}`);
  }
}
console.log(
  `graphql-http audit: ${counts.ok} ok, ${counts.error} error, ` +
    `${counts.warn} warn, ${counts.notice} notice`,
);
process.exit(counts.error > 0 ? 1 : 0);

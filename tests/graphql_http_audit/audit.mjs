// Runs graphql-http's server audits (GraphQL over HTTP conformance) against the URL given as
// the first argument and prints one JSON line per audit: {id, name, status, reason}.
import { auditServer } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node audit.mjs <graphql url>");
  process.exit(2);
}
const results = await auditServer({ url });
for (const { id, name, status, reason } of results) {
  console.log(JSON.stringify({ id, name, status, reason: reason ?? null }));
}

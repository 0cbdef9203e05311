// Checks the Dockerfile the chart's image comes from: multi-stage, Debian
// bookworm, a non-root user, and the image name the chart refers to.
//   node check_dockerfile.mjs Dockerfile values.yaml
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// The YAML parser is installed into the build tree (tests/helm/setup.sh),
// whose npm prefix the caller names.
const require = createRequire(`${process.env.RECONNECT_HELM_NPM}/`);
const { parse } = require("yaml");

const [dockerfile, valuesFile] = process.argv.slice(2);
const lines = readFileSync(dockerfile, "utf8").split("\n").map((l) => l.trim());
const values = parse(readFileSync(valuesFile, "utf8"));
let problems = 0;
const check = (ok, what) => {
  if (!ok) {
    console.error(`  Dockerfile: ${what}`);
    problems++;
  }
};
const froms = lines.filter((l) => /^FROM\s/i.test(l));
check(froms.length >= 2, "not multi-stage");
check(froms.every((l) => /debian:bookworm/.test(l)), "every stage must be Debian bookworm");
const finalStage = lines.slice(lines.lastIndexOf(froms[froms.length - 1]));
const users = finalStage.filter((l) => /^USER\s/i.test(l));
check(users.length > 0, "the final stage sets no USER");
const user = users[users.length - 1]?.split(/\s+/)[1] ?? "";
check(user && !/^(0|root)(:|$)/.test(user), `the final USER is root (${user})`);
check(/^\d+:\d+$/.test(user), "USER should be numeric uid:gid, so runAsNonRoot can verify it");
const title = lines.find((l) => l.includes("org.opencontainers.image.title"));
check(title?.includes(`"${values.image.repository}"`), `the image title is not the chart's image.repository (${values.image.repository})`);
check(finalStage.some((l) => /^ENTRYPOINT\s/.test(l)), "no ENTRYPOINT");
if (problems > 0) process.exit(1);
console.log(`Dockerfile: ${froms.length} stages, user ${user}`);

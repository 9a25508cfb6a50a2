// Re-renders a report from the raw figures a bench run saved (figures.json in its profile
// directory, printed at the end of the run): node bench/render.mjs <figures.json>
import { readFileSync, statSync } from "node:fs";
import { renderReport } from "./lib/report.mjs";
import { Results } from "./lib/results.mjs";

const context = JSON.parse(readFileSync(process.argv[2], "utf8"));
context.results = Results.fromJSON(context.results);
context.at ??= statSync(process.argv[2]).mtime.toISOString(); // runs before it was recorded
console.log(renderReport(context));
